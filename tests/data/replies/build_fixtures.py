"""Writes the reply fixtures of this folder: NAME.eml and NAME.expected.json.

Each message is laid out the way its client formats a reply (attribution or
header block, quoting style, trailer, charset and transfer encoding), written
for this project from the clients' observable output. Run it again after
editing a case: python tests/data/replies/build_fixtures.py
"""

from __future__ import annotations

import base64
import json
import quopri
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOKEN = "12.abcdefghijklmnop"
REPLY_TO = f"followup+{TOKEN}@example.org"
QUOTED_REMINDER_ZH = (
    "您好，张伟：\n\n请告诉我们以下行动的进展：\n"
    "1. 发布区级清洁空气行动计划（截止 2019-09-30）\n"
    "2. 试点低排放物流区（截止 2020-03-31）\n\n"
    "直接回复本邮件即可，例如：\n1：已完成\n2：进行中 60%"
)
QUOTED_REMINDER_EN = (
    "Dear Ms Lee,\n\nPlease tell us how your actions are going:\n"
    "1. Publish the plan (due 2019-09-30)\n"
    "2. Pilot the logistics zone (due 2020-03-31)\n\n"
    "Just reply to this email, e.g.\n1: done\n2: in progress 60%"
)


def headers(subject: str, sender: str, extra: str = "", to: str = REPLY_TO) -> str:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        "Date: Mon, 24 Jun 2019 10:02:11 +0800\r\n"
        f"Message-ID: <reply.{zlib.crc32(subject.encode())}@client.example>\r\n"
        f"In-Reply-To: <tracker.{TOKEN}@example.org>\r\n"
        f"References: <tracker.{TOKEN}@example.org>\r\nMIME-Version: 1.0\r\n{extra}"
    )


def b64(text: str, charset: str) -> str:
    return base64.encodebytes(text.encode(charset)).decode("ascii").replace("\n", "\r\n")


def encoded_word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode('ascii')}?="


def alternative(plain: str, html: str, charset: str, label: str | None = None) -> str:
    label = label or charset
    return (
        'Content-Type: multipart/alternative; boundary="----=_NextPart_5D10_ABCD"\r\n\r\n'
        "This is a multi-part message in MIME format.\r\n\r\n"
        f'------=_NextPart_5D10_ABCD\r\nContent-Type: text/plain; charset="{label}"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{b64(plain, charset)}\r\n"
        f'------=_NextPart_5D10_ABCD\r\nContent-Type: text/html; charset="{label}"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{b64(html, charset)}\r\n"
        "------=_NextPart_5D10_ABCD--\r\n"
    )


def quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


CASES: dict[str, tuple[bytes, dict[str, object]]] = {}


def case(name: str, raw: str | bytes, **expected: object) -> None:
    data = raw.encode("ascii") if isinstance(raw, str) else raw
    CASES[name] = (data, expected)


def updates(*rows: tuple[str, str | None, int | None, str]) -> list[dict[str, object]]:
    return [{"ref": r, "status": s, "percent": p, "note": n} for r, s, p, n in rows]


ZH_UPDATES = updates(("1", "done", 100, ""), ("2", "in_progress", 60, "等待预算批复"))
ZH_REPLY = "1：已完成\n2：进行中 60%，等待预算批复"

# QQ Mail: GB18030 in base64, plain + HTML, the "原始邮件" banner and a header
# block with half-width colons and semicolons after addresses.
qq_plain = (
    f"{ZH_REPLY}\r\n\r\n\r\n------------------&nbsp;原始邮件&nbsp;------------------\r\n"
    '发件人: "Follow-up"<followup@example.org>;\r\n发送时间: 2019年6月23日(星期天) 上午9:30\r\n'
    '收件人: "张伟"<zhangwei@qq.com>;\r\n主题: 行动计划进展情况\r\n\r\n'
    + QUOTED_REMINDER_ZH.replace("\n", "\r\n")
).replace("&nbsp;", "\xa0")
qq_html = (
    "<div>1：已完成</div><div>2：进行中 60%，等待预算批复</div><div><br></div>"
    '<div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">'
    "------------------&nbsp;原始邮件&nbsp;------------------</div>"
    '<div style="font-size: 12px;background:#efefef;padding:8px;"><div><b>发件人:</b>&nbsp;'
    '"Follow-up"&lt;followup@example.org&gt;;</div><div><b>发送时间:</b>&nbsp;2019年6月23日'
    "(星期天) 上午9:30</div></div><div><br></div>" + QUOTED_REMINDER_ZH.replace("\n", "<br>")
)
case(
    "qq_mail_gb18030",
    headers(
        encoded_word("回复：行动计划进展情况", "gb18030"),
        f'"{encoded_word("张伟", "gb18030")}" <zhangwei@qq.com>',
        "X-Mailer: QQMail 2.x\r\n",
    )
    + alternative(qq_plain, qq_html, "gb18030"),
    kind="reply",
    language="zh",
    reply_text=ZH_REPLY,
    updates=ZH_UPDATES,
    token=TOKEN,
)

# Foxmail: English banner "Original", "From:/Date:/To:/Subject:" block, GBK labelled GB2312.
fox_reply = "1、完成\n2、推进中，百分之六十\n另外，3 个街道已经开始试点。"
fox_plain = (
    f"{fox_reply}\r\n\r\n\r\n------------------ Original ------------------\r\n"
    'From:  "Follow-up"<followup@example.org>;\r\nDate:  Sun, Jun 23, 2019 09:30 AM\r\n'
    'To:  "王珺"<wangjun@example.cn>; \r\nSubject:  行动计划进展情况\r\n\r\n'
    + QUOTED_REMINDER_ZH.replace("\n", "\r\n")
)
case(
    "foxmail_gbk_labelled_gb2312",
    headers(
        encoded_word("回复: 行动计划进展情况", "gb18030").replace("gb18030", "gb2312"),
        f"{encoded_word('王珺', 'gbk').replace('gbk', 'GB2312')} <wangjun@example.cn>",
        "X-Mailer: Foxmail 7.2.13.365[cn]\r\n",
    )
    + 'Content-Type: text/plain; charset="GB2312"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    + b64(fox_plain, "gbk"),
    kind="reply",
    language="zh",
    reply_text=fox_reply,
    updates=updates(("1", "done", 100, ""), ("2", "in_progress", 60, "")),
    token=TOKEN,
)

# NetEase 163: "在 …，"Name" <addr> 写道：" then ">" quoted lines; GBK base64; 8-bit trailer.
netease_reply = "第1项：已完成。\n第2项：受阻，等待区财政局批复\n\n--\n发自我的网易邮箱手机智能版"
netease_plain = (
    f'{netease_reply}\r\n\r\n在 2019-06-23 09:30:00，"Follow-up" <followup@example.org> 写道：\r\n'
    + quote(QUOTED_REMINDER_ZH).replace("\n", "\r\n")
)
netease_html = (
    "<div>第1项：已完成。</div><div>第2项：受阻，等待区财政局批复</div>"
    '<div id="divNeteaseMailCard"></div><br><p>在 2019-06-23 09:30:00，"Follow-up"'
    ' &lt;followup@example.org&gt; 写道：</p><blockquote id="isReplyContent">'
    + QUOTED_REMINDER_ZH.replace("\n", "<br>")
    + "</blockquote>"
)
case(
    "netease_163_gbk",
    headers(
        encoded_word("Re:行动计划进展情况", "GBK"),
        "zhangwei@163.com",
        "X-Mailer: Coremail Webmail Server Version XT5.0.10\r\n",
    )
    + alternative(netease_plain, netease_html, "gbk", "GBK"),
    kind="reply",
    language="zh",
    reply_text="第1项：已完成。\n第2项：受阻，等待区财政局批复",
    updates=updates(("1", "done", 100, ""), ("2", "blocked", None, "等待区财政局批复")),
    token=TOKEN,
)

# Tencent Exmail web, HTML only: the quoted mail sits after the banner.
exmail_html = (
    "<html><head><style>p{margin:0}</style></head><body>"
    "<div>1. done</div><div>2. 60% done, waiting for the budget</div><div><br></div>"
    '<div><includetail><div style="font:Verdana normal 14px;color:#000;">'
    '<div style="FONT-SIZE: 12px;FONT-FAMILY: Arial Narrow;padding:2px 0 2px 0;">'
    "------------------&nbsp;Original&nbsp;------------------</div>"
    '<div style="FONT-SIZE: 12px;background:#efefef;padding:8px;"><div><b>From: </b>'
    '&nbsp;"Follow-up"&lt;followup@example.org&gt;;</div><div><b>Date: </b>&nbsp;Sun, '
    'Jun 23, 2019 09:30 AM</div><div><b>To: </b>&nbsp;"Li"&lt;li@corp.example.cn&gt;;'
    "</div><div><b>Subject: </b>&nbsp;Action plan progress</div></div><div><br></div>"
    + QUOTED_REMINDER_EN.replace("\n", "<br>")
    + "</div></includetail></div></body></html>"
)
case(
    "exmail_html_only",
    headers("Re: Action plan progress", '"Li" <li@corp.example.cn>', "X-Mailer: Tencent Exmail\r\n")
    + 'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    + b64(exmail_html, "utf-8"),
    kind="reply",
    language="en",
    reply_text="1. done\n2. 60% done, waiting for the budget",
    updates=updates(("1", "done", 100, ""), ("2", "in_progress", 60, "waiting for the budget")),
    token=TOKEN,
)

# Outlook desktop, Chinese UI: header block with full-width colons, GB2312 label
# on GBK text (镕 is outside GB2312).
outlook_zh_reply = "(1) 已完成\n(2) 正在推进，完成了百分之四十\n\n朱镕基办公室"
outlook_zh_plain = (
    f"{outlook_zh_reply}\r\n\r\n发件人：Follow-up [mailto:followup@example.org] \r\n"
    "发送时间：2019年6月23日 9:30\r\n收件人：朱镕基 <zhu@example.gov.cn>\r\n"
    "主题：行动计划进展情况\r\n\r\n" + QUOTED_REMINDER_ZH.replace("\n", "\r\n")
)
case(
    "outlook_zh_fullwidth_headers",
    headers(
        encoded_word("答复: 行动计划进展情况", "gbk").replace("gbk", "gb2312"),
        "zhu@example.gov.cn",
        "X-Mailer: Microsoft Outlook 16.0\r\nThread-Index: AdUpXYZ\r\n",
    )
    + 'Content-Type: text/plain; charset="gb2312"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    + b64(outlook_zh_plain, "gbk"),
    kind="reply",
    language="zh",
    reply_text=outlook_zh_reply,
    updates=updates(("1", "done", 100, ""), ("2", "in_progress", 40, "推进，完成了")),
    token=TOKEN,
)

# Outlook desktop, English UI: rule line, then From/Sent/To/Subject; quoted-printable.
outlook_en_reply = "1: completed\n2: on hold until the new budget year\n\nBest regards,\nMei Lee"
outlook_en_plain = (
    f"{outlook_en_reply}\r\n\r\n________________________________\r\n"
    "From: Follow-up <followup@example.org>\r\nSent: Sunday, June 23, 2019 9:30 AM\r\n"
    "To: Lee Mei <mei.lee@example.sg>\r\nSubject: Action plan progress\r\n\r\n"
    + QUOTED_REMINDER_EN.replace("\n", "\r\n")
)
case(
    "outlook_en_qp",
    headers("RE: Action plan progress", "Lee Mei <Mei.Lee@example.sg>")
    + 'Content-Type: text/plain; charset="us-ascii"\r\nContent-Transfer-Encoding: quoted-printable'
    + "\r\n\r\n"
    + quopri.encodestring(outlook_en_plain.encode("ascii")).decode("ascii"),
    kind="reply",
    language="en",
    reply_text=outlook_en_reply,
    updates=updates(("1", "done", 100, ""), ("2", "blocked", None, "until the new budget year")),
    token=TOKEN,
)

# Gmail, Chinese UI: "Name <addr> 于…写道：" wrapped over two lines; UTF-8 quoted-printable.
gmail_reply = "1. 完成\n2. 60%"
gmail_plain = (
    f"{gmail_reply}\r\n\r\n"
    "Follow-up Programme Office <followup@example.org> 于2019年6月23日周日\r\n"
    "上午9:30写道：\r\n\r\n" + quote(QUOTED_REMINDER_ZH).replace("\n", "\r\n")
)
case(
    "gmail_zh_wrapped_attribution",
    headers(
        encoded_word("Re: 行动计划进展情况", "UTF-8"),
        "Zhang Wei <zhangwei.cn@gmail.com>",
        to=f"<{REPLY_TO}>",
    )
    + 'Content-Type: text/plain; charset="UTF-8"\r\nContent-Transfer-Encoding: quoted-printable'
    + "\r\n\r\n"
    + quopri.encodestring(gmail_plain.encode("utf-8")).decode("ascii"),
    kind="reply",
    language="zh",
    reply_text=gmail_reply,
    updates=updates(("1", "done", 100, ""), ("2", "in_progress", 60, "")),
    token=TOKEN,
)

# iPhone Mail, Chinese: trailer then "在 …，… 写道：" with ">" quotes; 8-bit UTF-8.
iphone_plain = (
    "1 完成\n2 进行中，已完成 3 个街道\n\n发自我的iPhone\n\n"
    "在 2019年6月23日，上午9:30，Follow-up <followup@example.org> 写道：\n\n"
    + quote(QUOTED_REMINDER_ZH)
)
case(
    "iphone_zh_8bit",
    (
        headers(encoded_word("回复：行动计划进展情况", "utf-8"), "zhangwei@example.cn")
        + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode("ascii")
    + iphone_plain.replace("\n", "\r\n").encode("utf-8"),
    kind="reply",
    language="zh",
    reply_text="1 完成\n2 进行中，已完成 3 个街道",
    updates=updates(("1", "done", 100, ""), ("2", "in_progress", None, "已完成 3 个街道")),
    token=TOKEN,
)

# Huawei phone mail: "-------- 原始邮件 --------" and full-width colons.
huawei_plain = (
    "１：已完成\n２：取消\n\n\n\n发自我的华为手机\n\n\n-------- 原始邮件 --------\n"
    "发件人： Follow-up <followup@example.org>\n日期： 2019年6月23日周日 上午9:30\n"
    "收件人： zhangwei@example.cn\n主题： 行动计划进展情况\n\n" + QUOTED_REMINDER_ZH
)
case(
    "huawei_fullwidth_digits",
    headers(encoded_word("回复：行动计划进展情况", "utf-8"), "zhangwei@example.cn")
    + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + b64(huawei_plain, "utf-8"),
    kind="reply",
    language="zh",
    reply_text="１：已完成\n２：取消",
    updates=updates(("1", "done", 100, ""), ("2", "dropped", None, "")),
    token=TOKEN,
)

# Xiaomi phone: "---- 回复的原邮件 ----" with a table-like header block.
xiaomi_plain = (
    "1：尚未开始，下个月启动\n\n发自我的小米手机\n\n---- 回复的原邮件 ----\n"
    "| 发件人 | Follow-up<followup@example.org> |\n| 日期 | 2019年06月23日 09:30 |\n"
    "| 收件人 | zhangwei@example.cn |\n| 主题 | 行动计划进展情况 |\n" + QUOTED_REMINDER_ZH
)
case(
    "xiaomi_reply_banner",
    headers(encoded_word("回复：行动计划进展情况", "utf-8"), "zhangwei@example.cn")
    + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + b64(xiaomi_plain, "utf-8"),
    kind="reply",
    language="zh",
    reply_text="1：尚未开始，下个月启动",
    updates=updates(("1", "not_started", None, "下个月启动")),
    token=TOKEN,
)

# Taiwan Outlook: Big5, "寄件者:/寄件日期:/收件者:/主旨:", iPhone trailer in Traditional Chinese.
big5_reply = "1. 完成\n2. 進行中 50%"
big5_plain = (
    f"{big5_reply}\r\n\r\n從我的 iPhone 傳送\r\n\r\n寄件者: Follow-up <followup@example.org>\r\n"
    "寄件日期: 2019年6月23日 上午 09:30\r\n收件者: 林小姐 <lin@example.tw>\r\n"
    "主旨: 行動計畫進度\r\n"
    "\r\n請告訴我們進度。"
)
case(
    "outlook_big5_trailer",
    headers(encoded_word("回覆: 行動計畫進度", "big5"), "lin@example.tw")
    + 'Content-Type: text/plain; charset="big5"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    + b64(big5_plain, "big5"),
    kind="reply",
    language="zh",
    reply_text=big5_reply,
    updates=updates(("1", "done", 100, ""), ("2", "in_progress", 50, "")),
    token=TOKEN,
)

# A Big5 label on UTF-8 data (a known webmail bug).
case(
    "big5_label_on_utf8",
    (
        headers("Re: 行动计划进展情况", "chen@example.cn")
        + 'Content-Type: text/plain; charset="big5"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
    ).encode("utf-8")
    + "#1 已完成\r\n#2 暂停，领导调整\r\n".encode(),
    kind="reply",
    language="zh",
    reply_text="#1 已完成\n#2 暂停，领导调整",
    updates=updates(("1", "done", 100, ""), ("2", "blocked", None, "领导调整")),
    token=TOKEN,
)

# 8-bit GB18030 with no charset at all, and a raw 8-bit subject.
case(
    "gbk_8bit_no_charset",
    headers("RE: x", "liu@example.cn")
    .replace("Subject: RE: x", "Subject: RE: 进展")
    .encode("gb18030")
    + b"\r\n"
    + "[1] 完成 100%\r\n[2] 困难：资金不足\r\n".encode("gb18030"),
    kind="reply",
    language="zh",
    reply_text="[1] 完成 100%\n[2] 困难：资金不足",
    updates=updates(("1", "done", 100, ""), ("2", "blocked", None, "资金不足")),
    token=TOKEN,
)

# Japanese Gmail in ISO-2022-JP.
jp_plain = (
    "1: 完了しました\n\n2019年6月23日(日) 9:30 Follow-up <followup@example.org>:\n\n"
    "> 進捗を教えてください"
)
case(
    "gmail_iso_2022_jp",
    headers(encoded_word("Re: 進捗", "ISO-2022-JP"), "tanaka@example.jp")
    + 'Content-Type: text/plain; charset="ISO-2022-JP"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
    + jp_plain.replace("\n", "\r\n").encode("iso-2022-jp").decode("ascii"),
    kind="reply",
    language="ja",
    reply_text="1: 完了しました",
    updates=updates(("1", None, None, "完了しました")),
    token=TOKEN,
)

# Outlook on the web, HTML only: the quoted mail follows divRplyFwdMsg.
owa_html = (
    '<html><body><div dir="ltr"><p>1 - done</p><p>2 - stuck, waiting for the mayor</p></div>'
    '<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr">'
    "<b>From:</b> Follow-up &lt;followup@example.org&gt;<br><b>Sent:</b> Sunday, June 23, 2019"
    "</div><div>" + QUOTED_REMINDER_EN.replace("\n", "<br>") + "</div></body></html>"
)
case(
    "outlook_web_html_only",
    headers("RE: Action plan progress", "ana@example.org")
    + 'Content-Type: text/html; charset="iso-8859-1"\r\nContent-Transfer-Encoding: quoted-printable'
    + "\r\n\r\n"
    + quopri.encodestring(owa_html.encode("latin-1")).decode("ascii"),
    kind="reply",
    language="en",
    reply_text="1 - done\n2 - stuck, waiting for the mayor",
    updates=updates(("1", "done", 100, ""), ("2", "blocked", None, "waiting for the mayor")),
    token=TOKEN,
)

# An out-of-office reply from Exchange in Chinese.
case(
    "auto_reply_zh",
    headers(encoded_word("自动回复: 行动计划进展情况", "utf-8"), "zhao@example.cn")
    + "Auto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n"
    + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + b64("我正在休假，7月1日返回。", "utf-8"),
    kind="auto_reply",
    language="zh",
    reply_text="我正在休假，7月1日返回。",
    updates=[],
    token=TOKEN,
)

# A delivery-status report (RFC 3464) for a reminder.
case(
    "bounce_dsn",
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
    f"To: {REPLY_TO}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
    "Date: Mon, 24 Jun 2019 10:02:11 +0800\r\nMessage-ID: <dsn.1@mx.example.org>\r\n"
    "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n\r\n'
    "--B1\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message"
    " could not be delivered.\r\n\r\n--B1\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; gone@example.cn\r\n"
    "Original-Recipient: rfc822;gone@example.cn\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    "--B1\r\nContent-Type: message/rfc822\r\n\r\nFrom: followup@example.org\r\n"
    f"Message-ID: <tracker.{TOKEN}@example.org>\r\nSubject: x\r\n\r\nhello\r\n--B1--\r\n",
    kind="bounce",
    bounced=["gone@example.cn"],
    reply_text="I'm sorry to have to inform you that your message could not be delivered.",
    token=TOKEN,
)


def main() -> None:
    for name, (data, expected) in CASES.items():
        (HERE / f"{name}.eml").write_bytes(data)
        text = json.dumps(expected, ensure_ascii=False, indent=2) + "\n"
        (HERE / f"{name}.expected.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
