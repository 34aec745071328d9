"""The line shapes that mail clients use to introduce quoted mail, sign off, or brand a reply.

Each pattern is matched against one line (or a few joined lines for wrapped
attributions). They cover the clients our participants use: QQ Mail, Foxmail,
Tencent Exmail, NetEase 163/126, Outlook (Chinese and English UI), Gmail,
Apple Mail and phone clients, plus the common European UIs.
"""

from __future__ import annotations

import re

# "On Sun, Jun 23, 2019 at 9:30 AM Officer <o@example.org> wrote:",
# "在 2019年6月23日，上午9:30，Officer <o@example.org> 写道：",
# "Officer <o@example.org> 于2019年6月23日周日 上午9:30写道：",
# "2019年6月23日(日) 9:30 Officer <o@example.org>:" (Japanese Gmail).
ATTRIBUTION_END = re.compile(
    r"(?:\bwrote|\bwrites|写道|寫道|\bschrieb|a\s+écrit|escribió|ha\s+scritto|\bskrev|"
    r"\bschreef|geschreven|het\s+volgende|napisał(?:\(a\)|a)?|pisze|написал(?:\(а\)|а)?|писал|kirjoitti|"
    r"escreveu|작성|のメッセージ|пише|написав|írta|ha\s+escrit)\s*[:：]\s*$"
    r"|<\s*[^<>\s]+@[^<>\s]+\s*>\s*[:：]\s*$"
    r"|^On\b.{10,}\bwrote\s*$"
    r"|\bschrieb\s+am\s.{6,80}[:：]\s*$"
    r"|^(?:Am|Le|El|Il|Op|On|Den|W\s+dniu)\s.{0,150}\b(?:schrieb|a\s+écrit|escribió|ha\s+scritto|"
    r"schreef|skrev|napisał|wrote)\s.{1,80}[:：]\s*$"
    r"|^\d{4}[-/]\d{1,2}[-/]\d{1,2}\b.{0,40}\s.*<\s*[^<>\s]+@[^<>\s]+\s*>\s*$",
    re.IGNORECASE,
)
ATTRIBUTION_START = re.compile(
    r"^(?:On|At|在|於|于|Le|Am|El|Il|Op|Den|Em|Dne|Pe|W\s+dniu|Den|Il\s+giorno|\d{4}|\d{1,2}[./-])\b",
    re.IGNORECASE,
)
# A real attribution names a date or an address; "as I wrote:" does neither.
ATTRIBUTION_EVIDENCE = re.compile(r"\d|@")

_BANNER_WORDS = (
    r"Original\s+Message|Original|Forwarded\s+message|Reply\s+message|Message\s+d'origine|"
    r"Message\s+original|Mensaje\s+original|Ursprüngliche\s+Nachricht|Originalnachricht|"
    r"Weitergeleitete\s+Nachricht|Oorspronkelijk\s+bericht|Origineel\s+bericht|"
    r"Opprinnelig\s+melding|Oprindelig\s+meddelelse|Alkuperäinen\s+viesti|"
    r"Ursprungligt\s+meddelande|Originalmeddelande|Messaggio\s+originale|"
    r"Wiadomość\s+oryginalna|Oryginalna\s+wiadomość|Исходное\s+сообщение|"
    r"Пересылаемое\s+сообщение|Mensagem\s+original|元のメッセージ|원본\s*메시지|"
    r"原始邮件|原始郵件|原邮件|回复的原邮件|原始訊息|转发的邮件|轉寄的郵件|邮件原文"
)
BANNER = re.compile(
    rf"^\s*[-_=—–*]{{2,}}\s*(?:{_BANNER_WORDS})\s*[-_=—–*]{{2,}}\s*$"
    rf"|^\s*(?:{_BANNER_WORDS})\s*[-_=—–]*\s*$"
    r"|^\s*Begin\s+forwarded\s+message\s*:\s*$"
    r"|^\s*[-—]{2,}\s*(?:Forwarded|Reply)\b.*[-—]{2,}\s*$"
    # Any short title between long dash runs ("---- On … wrote ----", Danish
    # "-------- Oprindelig besked --------"), except PGP armour.
    r"|^\s*-{4,}\s*(?!.*\bPGP\b)[^-].{0,150}?\s*-{4,}\s*$",
    re.IGNORECASE,
)

_FROM_KEYS = (
    r"From|发件人|發件人|寄件者|寄件人|Von|De|Van|Da|Od|От|Från|Fra|Lähettäjä|送信者|"
    r"差出人|보낸\s*사람|Afzender|Remitente"
)
_OTHER_KEYS = (
    r"Sent|Date|To|Cc|Bcc|Subject|Reply-To|发送时间|發送時間|时间|時間|日期|收件人|抄送|主题|主題|"
    r"傳送時間|寄件日期|收件者|副本|主旨|Gesendet|Datum|An|Betreff|Envoyé|À|A|Objet|"
    r"Verzonden|Aan|Onderwerp|Inviato|Oggetto|Data|Wysłane|Do|Temat|Отправлено|Дата|Кому|"
    r"Тема|Skickat|Till|Ämne|Sendt|Til|Emne|Enviado|Para|Asunto|Assunto|件名|宛先|送信日時|"
    r"Lähetetty|Vastaanottaja|Aihe|Kopie|Copie\s+à|Sujet|Message\s+du"
)
# "From: …", "*From:* …" (HTML bold), "发件人：…" (full-width colon).
HEADER_FROM_LINE = re.compile(rf"^\s*[*_]{{0,2}}(?:{_FROM_KEYS})[*_]{{0,2}}\s*[:：]", re.IGNORECASE)
HEADER_ANY_LINE = re.compile(
    rf"^\s*[*_]{{0,2}}(?:{_FROM_KEYS}|{_OTHER_KEYS})[*_]{{0,2}}\s*[:：]", re.IGNORECASE
)

QUOTED_LINE = re.compile(r"^\s*(?:>|＞)")
RULE_LINE = re.compile(r"^\s*(?:_{4,}|-{4,}|={4,}|\*{4,}|—{3,})\s*$")
# "-- " is the standard delimiter; "__" opens mailing-list footers.
SIGNATURE_DELIMITER = re.compile(r"^(?:--|-- |__)$")

# Phone and webmail trailers, always the last line a sender "wrote".
DEVICE_TRAILER = re.compile(
    r"^\s*(?:"
    r"Sent\s+(?:from|via|using|with)\s+(?:my\s+)?[^,.;!?]{1,40}"
    r"|Get\s+Outlook\s+for\s+\w+.*"
    r"|[^<>]{0,30}\bOutlook\s+(?:for|für|pour|para|per|voor|för|dla|на)\s+(?:iOS|Android)\b.*"
    r"|Envoyé\s+(?:de|depuis)\s+mon\s+[^,.;!?]{1,30}"
    r"|Von\s+meinem\s+[^,.;!?]{1,40}\s+gesendet"
    r"|Enviado\s+desde\s+mi\s+[^,.;!?]{1,30}"
    r"|Inviato\s+da(?:l)?\s+(?:mio\s+)?[^,.;!?]{1,30}"
    r"|Verzonden\s+(?:vanaf|met)\s+(?:mijn\s+)?[^,.;!?]{1,30}"
    r"|Skickat\s+från\s+min\s+[^,.;!?]{1,30}"
    r"|Sendt\s+fra\s+min\s+[^,.;!?]{1,30}"
    r"|Wysłane\s+z\s+[^,.;!?]{1,30}"
    r"|Отправлено\s+с\s+[^,.;!?]{1,30}"
    r"|发自我的\s*[^，。,.]{1,20}|發自我的\s*[^，。,.]{1,20}|来自我的\s*[^，。,.]{1,20}"
    r"|发自\s*[^，。,.]{1,16}(?:邮箱|客户端|邮件|手机|App|大师)[^，。,.]{0,10}"
    r"|来自\s*[^，。,.]{1,16}(?:邮箱|客户端|邮件|手机|App|大师)[^，。,.]{0,10}"
    r"|从我的\s*[^，。,.]{1,20}发送|從我的\s*[^，。,.]{1,20}傳送|從我的\s*[^，。,.]{1,20}發送"
    r"|iPhoneから送信|iPadから送信|[^，。,.]{1,20}から送信"
    r")\.?\s*(?:<[^>]*>)?\s*$",
    re.IGNORECASE,
)
# "Sent from my desk, which is …" is prose: a trailer names a device in a few words.
TRAILER_MAX_WORDS = 8
