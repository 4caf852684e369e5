#!/usr/bin/env python3
"""Writes a few small, realistic WARC files to try the extraction pipeline on, laid out as CommonCrawl
lays out a snapshot:

    OUT/warc.paths                                     one relative path per line (as CommonCrawl's warc.paths.gz)
    OUT/warc.paths.gz                                  the same, gzip'd: what a job's source.listing takes
    OUT/crawl-data/CC-MAIN-SAMPLE/segments/.../warc/CC-MAIN-...-00000.warc.gz    gzip, one member per record
    OUT/crawl-data/CC-MAIN-SAMPLE/segments/.../warc/CC-MAIN-...-00001.warc.gz
    OUT/crawl-data/CC-MAIN-SAMPLE/segments/.../warc/CC-MAIN-...-00002.warc       plain (uncompressed)

Each file starts with a warcinfo record; each fetch is a request, response and metadata record.
The pages (all text written for this sample):
    00000: Japanese in UTF-8 (HTTP charset), Shift_JIS (meta http-equiv only, with the cp932-only "①"),
           EUC-JP (HTTP charset and meta charset), English, Chinese (with one stray "の"), a PNG image,
           and one Japanese page whose gzip member is cut in half (a truncated download: corrupt).
    00001: Japanese in Shift_JIS declared nowhere (found by detection), Japanese UTF-8 sent gzip'd with
           a wrong HTTP charset (ISO-8859-1) that its meta tag corrects, a Japanese 404 page, robots.txt,
           an English page, and a revisit record.
    00002: Japanese in UTF-8, an English page, and one Japanese page with a flipped byte (its
           WARC-Block-Digest no longer matches: corrupt).
So an extractor should keep 3 + 2 + 1 = 6 pages and skip one corrupt record in 00000 and one in 00002.

Usage: python3 examples/warc/make_sample_warcs.py OUT_DIR
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))
from warcfile import block_digest, record_bytes  # noqa: E402

SNAPSHOT = "CC-MAIN-SAMPLE"
SEGMENT = "1701400000000.00"
NAMESPACE = uuid.UUID("6f1c1f0e-9a53-4a1e-8f7d-0d6b1a2c3e4f")

# A 1x1 PNG: a real non-HTML payload.
PNG_1X1 = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


@dataclass
class Page:
    url: str
    html: str = ""
    #: Python codec the bytes are written in.
    codec: str = "utf-8"
    content_type: str = "text/html"
    status: int = 200
    reason: str = "OK"
    gzip_body: bool = False
    body: bytes | None = None
    #: What happens to the record after it is written: None, "truncate" (gzip member cut) or "bitflip".
    corrupt: str | None = None
    extra_headers: list[tuple[str, str]] = field(default_factory=list)


def page(title: str, body: str, *, head: str = "", lang: str = "ja") -> str:
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
{head}<title>{title}</title>
<link rel="stylesheet" href="/static/site.css">
<style>body {{ font-family: sans-serif; }} .note::after {{ content: "スタイルの中の文字"; }}</style>
<script>window.dataLayer = window.dataLayer || []; var label = "スクリプトの中の文字列";</script>
</head>
<body>
{body}
<script src="/static/analytics.js"></script>
</body>
</html>
"""


NAV_JA = '<header><nav><a href="/">ホーム</a> | <a href="/travel/">旅行記</a> | <a href="/recipes/">レシピ</a> | <a href="/about">About</a></nav></header>'

KYOTO = page(
    "京都の紅葉を歩く週末 | 旅とごはんの記録",
    NAV_JA
    + """
<article>
<h1>京都の紅葉を歩く週末</h1>
<p>十一月の終わりに、久しぶりに京都へ出かけました。朝早くの新幹線に乗り、九時前には京都駅に着きました。
駅前はすでに観光客でにぎわっていましたが、バスで東山の方へ向かうと少しずつ静かになっていきます。</p>
<p>最初に訪れたのは永観堂です。境内のもみじは
見事に色づいていて、池のまわりを歩くだけで時間を忘れてしまいました。赤や黄色の葉が水面に映り、写真では伝えきれない美しさでした。</p>
<h2>昼ごはんは湯豆腐</h2>
<p>お昼は南禅寺の近くで湯豆腐をいただきました。やわらかい豆腐と昆布だしのやさしい味が、冷えた体を温めてくれます。お店の方によると、この季節は予約なしでは入れない日も多いそうです。</p>
<ul><li>永観堂：朝から拝観できます</li><li>南禅寺：水路閣も見ておきたい場所です</li></ul>
<p>午後は哲学の道をゆっくり歩いて銀閣寺まで行きました。次は雪の季節にも来てみたいと思います。</p>
</article>
<footer><p>&copy; 2023 旅とごはんの記録 &amp; friends</p></footer>""",
)

NIKUJAGA = page(
    "肉じゃがの作り方 - 家庭料理レシピ",
    """<div id="wrap"><h1>基本の肉じゃが</h1>
<p>寒い日に食べたくなる定番のおかず、肉じゃがの作り方を紹介します。材料はどこのスーパーでも手に入るものばかりです。</p>
<h2>材料（四人分）</h2>
<table><tr><td>じゃがいも</td><td>四個</td></tr><tr><td>牛肉の薄切り</td><td>二百グラム</td></tr>
<tr><td>玉ねぎ</td><td>一個</td></tr><tr><td>にんじん</td><td>一本</td></tr></table>
<h2>作り方</h2>
<ol><li>① じゃがいもは皮をむいて大きめに切り、水にさらしておきます。</li>
<li>② 鍋に油をひいて牛肉と玉ねぎを炒めます。</li>
<li>③ じゃがいもとにんじんを加え、だし、しょうゆ、砂糖、みりんで二十分ほど煮込みます。</li></ol>
<p>火を止めてから少し置くと、味がよくしみておいしくなります。</p></div>""",
    head='<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">\n',
)

LIBRARY = page(
    "市立図書館 年末年始の開館日のお知らせ",
    """<div class="news"><h1>年末年始の開館日のお知らせ</h1>
<p>市立図書館は、年末年始の開館日についてお知らせします。十二月二十九日から一月三日までは休館となります。</p>
<p>休館中に本を返したい方は、正面玄関の横にある返却ポストをご利用ください。ただし、CDやDVDなどの視聴覚資料は、破損を防ぐため開館日にカウンターへお返しください。</p>
<p>また、一月四日からは新しい本の展示コーナーを設けます。子ども向けの絵本も多数そろえていますので、ご家族でぜひお越しください。</p>
<p class="contact">お問い合わせ：市立図書館 電話 000-000-0000</p></div>""",
    head='<meta charset="EUC-JP">\n',
)

ENGLISH_TRAVEL = page(
    "Autumn travel tips for Kyoto",
    """<h1>Autumn travel tips for Kyoto</h1>
<p>Late November is the best time to see the autumn leaves (紅葉, koyo) in Kyoto. Arrive early: the most
famous temples are crowded by ten in the morning, and buses along the eastern hills fill up quickly.</p>
<p>Many small restaurants near the temples serve simmered tofu at lunch. Reservations are a good idea on
weekends. Bring comfortable shoes, since the best way to see the city is on foot.</p>""",
    lang="en",
)

CHINESE = page(
    "北京的秋天",
    """<h1>北京的秋天</h1>
<p>北京的秋天是一年中最美的季节。天气凉爽，天空湛蓝，香山的红叶吸引了很多游客。</p>
<p>周末的时候，很多家庭会去公园散步，或者到郊外爬山。街边的小吃店也开始卖糖炒栗子，空气中都是甜甜的味道。</p>
<p>如果你打算秋天来北京旅行，最好提前预订酒店，因为十月初的假期人特别多。</p>
<p class="promo">秋季限定の优惠活动，欢迎光临。</p>""",
    lang="zh-CN",
)

TRUNCATED = page(
    "途中で切れた記録",
    "<p>この記録は転送の途中で切れてしまったため、展開できないはずです。抽出結果に現れてはいけません。</p>" * 4,
)

FAQ = page(
    "よくある質問 | オンラインショップ",
    """<h1>よくある質問</h1>
<dl><dt>Q. 注文したあとで内容を変更できますか？</dt>
<dd>A. 発送の準備が始まる前であれば、マイページから変更できます。準備が始まったあとは、お手数ですがお問い合わせフォームからご連絡ください。</dd>
<dt>Q. 送料はいくらですか？</dt><dd>A. 全国一律で五百円です。五千円以上のご注文は送料無料になります。</dd>
<dt>Q. 支払い方法は何がありますか？</dt><dd>A. クレジットカード、銀行振込、コンビニ払いに対応しています。</dd></dl>""",
)

WEATHER = page(
    "週末の天気：全国的に晴れ",
    """<main><h1>週末は全国的に晴れる見込み</h1>
<p>今週末は高気圧に覆われて、全国的に晴れる見込みです。朝晩は冷え込むため、出かける際は上着を用意しておくと安心です。</p>
<p>一方、来週の半ばからは前線が近づき、西日本を中心に雨が降りやすくなるでしょう。洗濯物は週末のうちに済ませておくのがおすすめです。</p>
<pre>土曜日  晴れ  最高気温 十五度
日曜日  晴れ  最高気温 十六度</pre></main>""",
    head='<meta charset="utf-8">\n',
)

NOT_FOUND = page(
    "ページが見つかりません",
    "<h1>ページが見つかりません</h1><p>お探しのページは削除されたか、URLが変更された可能性があります。トップページからもう一度お探しください。</p>",
)

PRIVACY = page(
    "Privacy policy",
    """<h1>Privacy policy</h1><p>We collect only the information needed to process your order. We never sell
your personal data to third parties. You may ask us to delete your account at any time.</p>""",
    lang="en",
)

FUJI = page(
    "初めての富士登山で気をつけたいこと",
    """<article><h1>初めての富士登山で気をつけたいこと</h1>
<p>富士山に初めて登る人に向けて、準備のポイントをまとめました。夏でも山頂付近の気温は五度前後まで下がるので、防寒着は必ず持っていきましょう。</p>
<p>高山病を防ぐには、五合目で一時間ほど体を慣らしてから歩き始めるのが効果的です。水分をこまめにとり、無理のないペースで登ることが大切です。</p>
<p>山小屋を利用する場合は、早めに予約をしておくと安心です。</p></article>""",
)

BITFLIP = page(
    "壊れたレコード",
    "<p>このページの記録は一バイトだけ書き換えられていて、ダイジェストが合わないはずです。抽出されてはいけません。</p>",
)

ROBOTS = b"User-agent: *\nDisallow: /cart/\nSitemap: https://shop.example.jp/sitemap.xml\n"

FILES: list[tuple[str, bool, list[Page]]] = [
    (
        "00000",
        True,
        [
            Page("https://travel.example.jp/blog/2023/11/kyoto-koyo", KYOTO, "utf-8", "text/html; charset=UTF-8"),
            Page("https://www.example.com/travel/kyoto-autumn", ENGLISH_TRAVEL, "utf-8", "text/html; charset=utf-8"),
            Page("https://recipe.example.jp/nikujaga.html", NIKUJAGA, "cp932", "text/html"),
            Page("https://travel.example.jp/blog/2023/11/truncated", TRUNCATED, "utf-8", "text/html; charset=UTF-8", corrupt="truncate"),
            Page("https://news.example.cn/autumn/beijing.html", CHINESE, "utf-8", "text/html; charset=UTF-8"),
            Page("https://travel.example.jp/images/spacer.png", content_type="image/png", body=PNG_1X1),
            Page("https://library.example.jp/news/2023-12-01.html", LIBRARY, "euc_jp", "text/html; charset=EUC-JP"),
        ],
    ),
    (
        "00001",
        True,
        [
            Page("https://shop.example.jp/faq", FAQ, "cp932", "text/html"),
            Page("https://weather.example.jp/weekend", WEATHER, "utf-8", "text/html; charset=ISO-8859-1", gzip_body=True),
            Page("https://shop.example.jp/old-campaign", NOT_FOUND, "utf-8", "text/html; charset=UTF-8", status=404, reason="Not Found"),
            Page("https://shop.example.jp/robots.txt", content_type="text/plain", body=ROBOTS),
            Page("https://www.example.com/privacy", PRIVACY, "utf-8", "text/html; charset=UTF-8"),
        ],
    ),
    (
        "00002",
        False,
        [
            Page("https://hiking.example.jp/fuji/first-time", FUJI, "utf-8", "text/html; charset=utf-8"),
            Page("https://hiking.example.jp/broken", BITFLIP, "utf-8", "text/html; charset=utf-8", corrupt="bitflip"),
            Page("https://www.example.com/about", PRIVACY.replace("Privacy policy", "About us"), "utf-8", "text/html"),
        ],
    ),
]

def rid(name: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(NAMESPACE, name)}>"


def http_response(p: Page) -> bytes:
    body = p.body if p.body is not None else p.html.encode(p.codec)
    headers = [("Date", "Fri, 01 Dec 2023 03:12:45 GMT"), ("Server", "nginx"), ("Content-Type", p.content_type)]
    if p.gzip_body:
        body = gzip.compress(body, mtime=0)
        headers.append(("Content-Encoding", "gzip"))
    headers += [("Content-Length", str(len(body))), ("Connection", "close"), *p.extra_headers]
    head = f"HTTP/1.1 {p.status} {p.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + body


def http_request(url: str) -> bytes:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    return (
        f"GET {u.path or '/'} HTTP/1.1\r\nUser-Agent: CCBot/2.0 (https://commoncrawl.org/faq/)\r\n"
        f"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n"
        f"Accept-Encoding: br,gzip\r\nHost: {u.netloc}\r\nConnection: Keep-Alive\r\n\r\n"
    ).encode("latin-1")


def warc_file(name: str, compress: bool, pages: list[Page]) -> bytes:
    out = io.BytesIO()
    filename = f"CC-MAIN-20231201030000-20231201060000-{name}.warc" + (".gz" if compress else "")
    date = "2023-12-01T03:12:45Z"
    info_id = rid(f"{name}/warcinfo")

    def emit(serialised: bytes, corrupt: str | None = None) -> None:
        if corrupt == "bitflip":
            # Same length, one byte changed inside the HTML: only the digest can tell.
            i = serialised.index(b"</p>")
            serialised = serialised[:i] + b"<!p>" + serialised[i + 4 :]
        member = gzip.compress(serialised, mtime=0) if compress else serialised
        if corrupt == "truncate":
            member = member[: len(member) // 2]
        out.write(member)

    info = (
        f"isPartOf: {SNAPSHOT}\r\npublisher: kumo examples (sample data, not Common Crawl)\r\n"
        f"description: Sample WARC for the kumo extraction demo\r\nformat: WARC File Format 1.0\r\n"
        f"conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.0/\r\n"
    ).encode()
    emit(record_bytes("warcinfo", info, [("Content-Type", "application/warc-fields"), ("WARC-Filename", filename)], record_id=info_id, date=date))
    for n, p in enumerate(pages):
        req_id, resp_id = rid(f"{name}/{p.url}/request"), rid(f"{name}/{p.url}/response")
        common = [("WARC-Warcinfo-ID", info_id), ("WARC-IP-Address", f"192.0.2.{10 + n}"), ("WARC-Target-URI", p.url)]
        emit(record_bytes("request", http_request(p.url), [("Content-Type", "application/http; msgtype=request"), *common], record_id=req_id, date=date))
        resp = http_response(p)
        payload = resp.split(b"\r\n\r\n", 1)[1]
        mime = p.content_type.split(";")[0]
        emit(
            record_bytes(
                "response",
                resp,
                [
                    ("Content-Type", "application/http; msgtype=response"),
                    *common,
                    ("WARC-Concurrent-To", req_id),
                    ("WARC-Payload-Digest", block_digest(payload)),
                    ("WARC-Identified-Payload-Type", mime),
                ],
                record_id=resp_id,
                date=date,
            ),
            p.corrupt,
        )
        meta = f"fetchTimeMs: {120 + 7 * n}\r\n".encode()
        emit(record_bytes("metadata", meta, [("Content-Type", "application/warc-fields"), *common, ("WARC-Refers-To", resp_id)], record_id=rid(f"{name}/{p.url}/metadata"), date=date))
    if name == "00001":
        # A later fetch of the FAQ whose payload did not change: a revisit record, HTTP headers only.
        faq = pages[0]
        head = http_response(faq).split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        emit(
            record_bytes(
                "revisit",
                head,
                [
                    ("Content-Type", "application/http; msgtype=response"),
                    ("WARC-Warcinfo-ID", info_id),
                    ("WARC-Target-URI", faq.url),
                    ("WARC-Profile", "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"),
                    ("WARC-Refers-To-Target-URI", faq.url),
                ],
                record_id=rid(f"{name}/{faq.url}/revisit"),
                date="2023-12-01T05:40:02Z",
            )
        )
    return out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="folder to write into (created)")
    args = ap.parse_args()
    out = Path(args.out)
    rel_dir = Path("crawl-data") / SNAPSHOT / "segments" / SEGMENT / "warc"
    (out / rel_dir).mkdir(parents=True, exist_ok=True)
    rels: list[str] = []
    for name, compress, pages in FILES:
        rel = rel_dir / (f"CC-MAIN-20231201030000-20231201060000-{name}.warc" + (".gz" if compress else ""))
        data = warc_file(name, compress, pages)
        tmp = out / (str(rel) + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, out / rel)
        rels.append(rel.as_posix())
        print(f"{out / rel}\t{len(data)} bytes\t{len(pages)} fetches\tsha256:{hashlib.sha256(data).hexdigest()[:16]}")
    listing = "".join(r + "\n" for r in rels).encode()
    (out / "warc.paths").write_bytes(listing)
    # mtime 0: the same bytes every run, like the WARC files.
    (out / "warc.paths.gz").write_bytes(gzip.compress(listing, mtime=0))
    print(f"{out / 'warc.paths'}\t{len(rels)} files (and warc.paths.gz)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
