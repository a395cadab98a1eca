//! Markup samples: HTML, SVG and XML, benign and hostile, one file per case of the HTML/SVG/XML
//! rows of the threat list.
//!
//! Every file is written as text by the functions here: an HTML page carrying every script
//! vector the module knows of (script elements in several spellings, handlers on many
//! elements, script and `data:` URLs in every URL attribute, hidden by character references and
//! white space, frames, objects, forms, meta refresh, base, link imports, inline SVG with script,
//! style with `expression()` and `url(javascript:)`); benign Japanese pages in Shift_JIS and
//! ISO-2022-JP and a UTF-8 mail body with tables and inline styles; SVG drawings with and
//! without script; an HL7 CDA-like clinical document with a style sheet instruction; and files
//! that must be blocked (an entity bomb, an HTML application, Office 2003 XML with a macro
//! part, nesting deeper than the limit). The scripts are inert (`alert`), the addresses are
//! under `example` domains.
//!
//! [`all`] lists them with the outcome the engine must reach under the default configuration;
//! `examples/gen_samples.rs` writes them to `samples/markup/` with `EXPECTED.tsv`.
//! [`large_mail_html`] makes a benign mail-like page of a chosen size for the benchmark.

use super::{Expected, Sample};
use crate::model::{ActionKind, Reason};

/// Words the HTML samples must keep (checked in the decoded output).
pub const VECTOR_WORDS: [&str; 4] = ["Invoice", "請求書", "safe link kept", "10,000 円"];
pub const LETTER_WORDS: [&str; 4] = ["拝啓", "山田太郎", "検査結果", "敬具"];
pub const MAIL_WORDS: [&str; 4] = ["検査科", "お世話になっております", "WBC", "結果ページ"];
pub const SVG_WORDS: [&str; 2] = ["外来患者数", "2024"];
pub const CDA_WORDS: [&str; 2] = ["診療情報提供書", "山田"];

/// Every script vector in one page. Each line carries one; the text around them must stay.
pub fn every_script_vector() -> Vec<u8> {
    r##"<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=https://phish.example/login">
<meta http-equiv="Set-Cookie" content="session=stolen">
<base href="https://attacker.example/">
<link rel="stylesheet" href="https://attacker.example/s.css">
<link rel="import" href="https://attacker.example/i.html">
<link rel="preload" href="https://attacker.example/p.js" as="script">
<title>Invoice 請求書</title>
<style>body { background: url(javascript:alert(1)) } p { width: expression(alert(2)) }</style>
<script>alert('head')</script>
<script src="https://attacker.example/x.js"></script>
</head>
<body onload="alert('body')" background="javascript:alert('bg')">
<h1 onmouseover="alert(3)">Invoice 請求書</h1>
<p>Dear customer, please find the invoice below.</p>
<SCRIPT type="text/javascript">alert(4)</SCRIPT>
<script type="module">import('https://attacker.example/m.js')</script>
<ScRiPt/src="https://attacker.example/y.js"></ScRiPt>
<img src="x" onerror="alert(6)">
<img src="javascript:alert(7)">
<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoOCk+">
<img lowsrc="javascript:alert(9)" dynsrc="vbscript:alert(10)">
<a href="javascript:alert(11)">click</a>
<a href=" jav&#x09;ascript:alert(12)">tab</a>
<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(13)">entities</a>
<a href="&#x6A;ava&NewLine;script&colon;alert(14)">named entities</a>
<a href="java
script:alert(15)">newline</a>
<a href="vbscript:msgbox(16)">vb</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxNyk8L3NjcmlwdD4=">data</a>
<a href="file:///C:/Windows/System32/calc.exe">file</a>
<a href="\\attacker.example\share\run.exe">share</a>
<a href="https://example.org/" onclick="alert(18)">safe link kept</a>
<div style="background-image: url(javascript:alert(19)); color: red">styled</div>
<div style="width: expression(alert(20))">expr</div>
<div style="width: exp/**/ression(alert(21))">expr comment</div>
<div style="behavior: url(x.htc)">htc</div>
<div style="-moz-binding: url(https://attacker.example/x.xml#x)">xbl</div>
<iframe src="https://attacker.example/frame"></iframe>
<iframe srcdoc="&lt;script&gt;alert(22)&lt;/script&gt;"></iframe>
<iframe src="javascript:alert(23)"></iframe>
<object data="https://attacker.example/x.swf" type="application/x-shockwave-flash"><param name="movie" value="x.swf"></object>
<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgyNCk8L3NjcmlwdD4="></object>
<embed src="https://attacker.example/x.swf">
<applet code="Evil.class" archive="evil.jar"></applet>
<form action="javascript:alert(25)" method="post"><input type="text" name="user" onfocus="alert(26)" autofocus><input type="password" name="pass"><button formaction="javascript:alert(27)">Login</button><input type="image" src="javascript:alert(28)"></form>
<video poster="javascript:alert(29)" src="https://attacker.example/v.mp4"></video>
<audio src="https://attacker.example/a.mp3" onplay="alert(30)"></audio>
<table background="javascript:alert(31)"><tr><td background="vbscript:alert(32)">cell</td></tr></table>
<svg xmlns="http://www.w3.org/2000/svg" onload="alert(33)"><script>alert(34)</script><a xlink:href="javascript:alert(35)"><text>svg link</text></a><animate attributeName="href" to="javascript:alert(36)"/></svg>
<math><maction actiontype="statusline" xlink:href="javascript:alert(37)">math</maction></math>
<details open ontoggle="alert(38)"><summary>more</summary>hidden</details>
<marquee onstart="alert(39)">moving</marquee>
<textarea onfocus="alert(40)">text</textarea>
<noscript><p title="</noscript><img src=x onerror=alert(41)>"></noscript>
<p>Total: 10,000 円</p>
</body>
</html>
"##
    .as_bytes()
    .to_vec()
}

/// A benign letter in Shift_JIS, declared in a `meta` element, as older mail programs write it.
pub fn letter_sjis() -> Vec<u8> {
    let page = r##"<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html lang="ja">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">
<title>検査結果のお知らせ</title>
</head>
<body bgcolor="#ffffff">
<p>拝啓　時下ますますご清栄のこととお慶び申し上げます。</p>
<p>山田太郎 様の検査結果をお送りいたします。<br>
ご確認のほど、よろしくお願い申し上げます。</p>
<ul>
<li>血液検査：異常なし</li>
<li>胸部Ｘ線：異常なし</li>
</ul>
<p align="right">敬具<br>○○病院　検査科</p>
</body>
</html>
"##;
    encoding_rs::SHIFT_JIS.encode(page).0.into_owned()
}

/// A benign mail body in ISO-2022-JP with no declaration (the charset is guessed).
pub fn notice_iso2022jp() -> Vec<u8> {
    let page = "<html><body><p>お知らせ：来週の会議は３階の会議室で行います。</p><p>総務課</p></body></html>\n";
    encoding_rs::ISO_2022_JP.encode(page).0.into_owned()
}

/// A benign mail body in UTF-8 as mail programs write it: a style sheet, classes, inline
/// styles, a table, a web link and a signature picture from the message (`cid:`).
pub fn mail_body_utf8() -> Vec<u8> {
    r##"<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<style>p.MsoNormal { margin: 0; font-family: "MS Gothic", sans-serif } td, th { border: 1px solid #999999; padding: 2px 6px }</style>
</head>
<body lang="JA" style="word-wrap:break-word">
<div class="WordSection1">
<p class="MsoNormal">○○病院 検査科 御中</p>
<p class="MsoNormal" style="color:#1f497d; font-size: 11pt">お世話になっております。検査結果の一覧をお送りします。</p>
<table border="1" cellpadding="4" cellspacing="0" style="border-collapse:collapse">
<tr><th>項目</th><th>結果</th><th>基準値</th></tr>
<tr><td>WBC</td><td style="text-align:right">6.2</td><td>3.3〜8.6</td></tr>
<tr><td>RBC</td><td style="text-align:right">4.5</td><td>4.35〜5.55</td></tr>
</table>
<p>詳しくは <a href="https://example.org/results">結果ページ</a> をご覧ください。
連絡先: <a href="mailto:lab@example.org">lab@example.org</a> / <a href="tel:+81-3-0000-0000">03-0000-0000</a></p>
<p><img src="cid:image001.png@01DA0000.00000000" alt="署名" width="120" height="40"></p>
</div>
</body>
</html>
"##
    .as_bytes()
    .to_vec()
}

/// An HTML application: runs with a program's rights (mshta.exe), blocked as one.
pub fn html_application() -> Vec<u8> {
    br##"<html>
<head>
<title>Update</title>
<HTA:APPLICATION ID="upd" APPLICATIONNAME="Update" WINDOWSTATE="minimize">
<script language="VBScript">
Sub Window_OnLoad
  MsgBox "inert"
End Sub
</script>
</head>
<body>Updating...</body>
</html>
"##
    .to_vec()
}

/// A page nested deeper than `[limits] max_xml_depth` (256).
pub fn deep_html() -> Vec<u8> {
    let mut s = String::from("<!DOCTYPE html><html><body>");
    s.push_str(&"<div>".repeat(400));
    s.push_str("deep");
    s.push_str(&"</div>".repeat(400));
    s.push_str("</body></html>\n");
    s.into_bytes()
}

/// An SVG drawing with every SVG vector: a script, handlers, a foreign object with HTML, a link
/// and an animation to `javascript:`, a picture and a `use` from outside, external CSS.
pub fn scripted_svg() -> Vec<u8> {
    br##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="120" viewBox="0 0 200 120" onload="alert(1)">
  <style>@import url(https://attacker.example/s.css); rect { fill: #336699 }</style>
  <script type="text/javascript"><![CDATA[ alert(2) ]]></script>
  <rect x="10" y="10" width="80" height="40" onclick="alert(3)" style="fill: url(https://attacker.example/p.svg#g); stroke: black"/>
  <a xlink:href="javascript:alert(4)"><text x="10" y="80">Chart</text></a>
  <a href="https://attacker.example/"><text x="10" y="100">Link</text></a>
  <set attributeName="xlink:href" to="javascript:alert(5)" begin="0s"/>
  <image x="100" y="10" width="20" height="20" href="https://attacker.example/track.png"/>
  <use href="https://attacker.example/defs.svg#icon"/>
  <foreignObject x="0" y="0" width="100" height="50"><body xmlns="http://www.w3.org/1999/xhtml"><iframe src="https://attacker.example/"></iframe></body></foreignObject>
  <circle cx="150" cy="60" r="20" fill="url(https://attacker.example/x.svg#p)"/>
</svg>
"##
    .to_vec()
}

/// A benign bar chart: gradient, style sheet, text (Japanese), a local `use`, a PNG in a `data:`
/// URL, editor metadata (left out silently: not active).
pub fn benign_svg() -> Vec<u8> {
    r##"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="240" height="160" viewBox="0 0 240 160" version="1.1">
  <title>外来患者数 2024</title>
  <style type="text/css">.bar { fill: url(#grad); stroke: #333333; stroke-width: 1 } text { font-family: sans-serif; font-size: 10px }</style>
  <defs>
    <linearGradient id="grad" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#6699cc"/><stop offset="1" stop-color="#336699"/></linearGradient>
    <rect id="tick" width="4" height="1" fill="#000000"/>
  </defs>
  <g transform="translate(20,10)">
    <rect class="bar" x="0" y="40" width="30" height="100"/>
    <rect class="bar" x="40" y="20" width="30" height="120"/>
    <rect class="bar" x="80" y="60" width="30" height="80"/>
    <use xlink:href="#tick" x="-6" y="140"/>
    <text x="0" y="155">1月</text><text x="40" y="155">2月</text><text x="80" y="155">3月</text>
    <text x="120" y="10" text-anchor="middle">外来患者数 2024</text>
    <image x="150" y="100" width="1" height="1" xlink:href="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="/>
    <animate xlink:href="#tick" attributeName="opacity" from="0" to="1" dur="1s"/>
  </g>
</svg>
"##
    .as_bytes()
    .to_vec()
}

/// An SVG nested deeper than the XML depth limit.
pub fn deep_svg() -> Vec<u8> {
    let mut s = String::from("<svg xmlns=\"http://www.w3.org/2000/svg\">");
    s.push_str(&"<g>".repeat(400));
    s.push_str(&"</g>".repeat(400));
    s.push_str("</svg>\n");
    s.into_bytes()
}

/// An XML document whose elements nest `depth` deep (`<a><a>...</a></a>`).
pub fn deep_xml(depth: usize) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<record>");
    s.push_str(&"<a>".repeat(depth.saturating_sub(1)));
    s.push_str("deep");
    s.push_str(&"</a>".repeat(depth.saturating_sub(1)));
    s.push_str("</record>\n");
    s.into_bytes()
}

fn cda(prolog: &str, extra: &str) -> Vec<u8> {
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
{prolog}<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xi="http://www.w3.org/2001/XInclude">
  <!-- 診療情報提供書 (HL7 CDA R2 の形) -->
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="1.2.392.200119.6.102.11234567890" extension="2024-0001"/>
  <code code="57133-1" codeSystem="2.16.840.1.113883.6.1" displayName="Referral note"/>
  <title>診療情報提供書</title>
  <effectiveTime value="20240401"/>
  <recordTarget><patientRole><patient><name use="IDE"><family>山田</family><given>太郎</given></name></patient></patientRole></recordTarget>
  <component><structuredBody><component><section>
    <title>紹介目的</title>
    <text><paragraph>精査加療のためご紹介いたします。</paragraph><table border="1"><tbody><tr><td>BP</td><td>128/82</td></tr></tbody></table></text>
  </section></component></structuredBody></component>{extra}
</ClinicalDocument>
"##
    )
    .into_bytes()
}

/// A clinical document with the style sheet instruction viewers use to show it (an XSLT a
/// browser would run).
pub fn cda_stylesheet() -> Vec<u8> {
    cda("<?xml-stylesheet type=\"text/xsl\" href=\"CDA.xsl\"?>\n", "")
}

pub fn cda_benign() -> Vec<u8> {
    cda("", "")
}

/// A clinical document that pulls in a local file with XInclude.
pub fn cda_xinclude() -> Vec<u8> {
    cda("", "\n  <xi:include href=\"file:///C:/Users/Public/secret.xml\" parse=\"xml\"/>")
}

/// XML that a browser would render as a page and run the script of.
pub fn xml_with_xhtml_script() -> Vec<u8> {
    br##"<?xml version="1.0"?>
<report xmlns:h="http://www.w3.org/1999/xhtml"><h:script>alert(1)</h:script><value>1</value></report>
"##
    .to_vec()
}

/// The billion laughs: entities that expand to gigabytes.
pub fn entity_bomb() -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n  <!ENTITY lol \"lol\">\n");
    s.push_str("  <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..=9 {
        let prev = format!("&lol{};", i - 1);
        s.push_str(&format!("  <!ENTITY lol{i} \"{}\">\n", prev.repeat(10)));
    }
    s.push_str("]>\n<lolz>&lol9;</lolz>\n");
    s.into_bytes()
}

/// A Word 2003 XML document with a macro part (`editdata.mso`, base64; here inert bytes).
pub fn word2003_with_macro() -> Vec<u8> {
    br##"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<?mso-application progid="Word.Document"?>
<w:wordDocument xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml" xmlns:w10="urn:schemas-microsoft-com:office:word">
  <w:docOleData><w:binData w:name="oledata.mso">0M8R4KGxGuEAAAAAAAAAAAAAAAAAAAAAPgADAP7/CQAGAAAA</w:binData></w:docOleData>
  <w:binData w:name="editdata.mso">QWN0aXZlTWltZQAAAfAEAAAA/////wAAB/AzBgAABAAAAAQAAAA=</w:binData>
  <w:body><w:p><w:r><w:t>Macro document</w:t></w:r></w:p></w:body>
</w:wordDocument>
"##
    .to_vec()
}

/// A benign mail-like page of about `size` bytes: paragraphs, tables with inline styles,
/// links, for the benchmark.
pub fn large_mail_html(size: usize) -> Vec<u8> {
    let mut s =
        String::from("<html><head><meta charset=\"utf-8\"><style>td { border: 1px solid #ccc }</style></head><body>\n");
    let mut i = 0u32;
    while s.len() < size {
        i += 1;
        s.push_str(&format!(
            "<p style=\"margin:0;font-size:11pt\">第{i}項 検査結果のお知らせです。詳細は <a href=\"https://example.org/r/{i}\">こちら</a>。</p>\n\
             <table cellpadding=\"2\"><tr><td style=\"color:#333\">WBC</td><td>6.{}</td></tr><tr><td>RBC</td><td>4.{}</td></tr></table>\n",
            i % 10,
            (i * 7) % 10
        ));
    }
    s.push_str("</body></html>\n");
    s.into_bytes()
}

fn sample(file_name: &'static str, bytes: Vec<u8>, expected: Expected) -> Sample {
    Sample { file_name, bytes, expected }
}

/// Every markup sample, in a fixed order.
pub fn all() -> Vec<Sample> {
    use ActionKind::*;
    vec![
        sample(
            "every_script_vector.html",
            every_script_vector(),
            Expected::disarmed(
                "html",
                &[
                    RemovedScript,
                    RemovedEventListener,
                    RemovedJavascript,
                    RemovedDataUrl,
                    RemovedEmbeddedFrame,
                    RemovedForm,
                    RemovedAutoAction,
                    RemovedExternalReference,
                ],
            )
            .keeping(&VECTOR_WORDS),
        ),
        sample("letter_sjis.html", letter_sjis(), Expected::clean("html").keeping(&LETTER_WORDS)),
        sample("notice_iso2022jp.html", notice_iso2022jp(), Expected::clean("html").keeping(&["会議室", "総務課"])),
        sample("mail_body_utf8.html", mail_body_utf8(), Expected::clean("html").keeping(&MAIL_WORDS)),
        sample("blocked_application.hta", html_application(), Expected::blocked(Reason::Executable)),
        sample("blocked_deep_nesting.html", deep_html(), Expected::blocked(Reason::LimitXmlDepth)),
        sample(
            "scripted.svg",
            scripted_svg(),
            Expected::disarmed(
                "svg",
                &[
                    RemovedScript,
                    RemovedEventListener,
                    RemovedJavascript,
                    RemovedEmbeddedFrame,
                    RemovedExternalReference,
                ],
            )
            .keeping(&["Chart", "Link"]),
        ),
        sample("benign_chart.svg", benign_svg(), Expected::clean("svg").keeping(&SVG_WORDS)),
        sample("blocked_deep_nesting.svg", deep_svg(), Expected::blocked(Reason::LimitXmlDepth)),
        sample("cda_benign.xml", cda_benign(), Expected::clean("xml").keeping(&CDA_WORDS)),
        sample(
            "cda_stylesheet.xml",
            cda_stylesheet(),
            Expected::disarmed("xml", &[RemovedExternalReference]).keeping(&CDA_WORDS),
        ),
        sample(
            "cda_xinclude.xml",
            cda_xinclude(),
            Expected::disarmed("xml", &[RemovedExternalReference]).keeping(&CDA_WORDS),
        ),
        sample("blocked_xhtml_script.xml", xml_with_xhtml_script(), Expected::blocked(Reason::Unsupported)),
        sample("blocked_entity_bomb.xml", entity_bomb(), Expected::blocked(Reason::XmlDoctype)),
        sample("blocked_word2003_macro.xml", word2003_with_macro(), Expected::blocked(Reason::Unsupported)),
    ]
}
