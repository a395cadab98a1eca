//! SVG: rewritten with an allow-list of elements and attributes (through the XML rewriter of
//! [`super::xml`]: the whole file parsed, nesting bounded, namespaces resolved).
//!
//! Kept: the SVG elements that draw (shapes, text, paths, images, gradients, patterns, masks,
//! clips, markers, filters, symbols and `use`), with their geometry and presentation
//! attributes; style sheets and `style` attributes without active CSS (see [`super::css`]);
//! animations of presentation attributes. References stay only when they point inside the file
//! (`#id`, `url(#id)`), or, for an `<image>`, to a PNG, JPEG or GIF picture carried in a `data:`
//! URL (a raster picture cannot run anything).
//!
//! Removed: `script` (and SVG Tiny `handler` and `listener`), every `on...` attribute,
//! `foreignObject` (HTML inside SVG), frames, objects and forms in any namespace, animations
//! that change a link, a style or a handler (`<set attributeName="href" to="javascript:...">`),
//! every `href`/`xlink:href` to outside the file (links, pictures and `use` of other files),
//! `xml:base`, CSS that loads or runs something, processing instructions (style sheets), and
//! everything not on the lists (editor metadata such as Inkscape's, unknown elements and
//! attributes). A document type declaration is refused (`xml_doctype`), except the bare public
//! SVG one (no internal subset, so no entities), which is left out of the output.

use super::css;
use super::urls::{self, UrlClass};
use super::xml::{self as mx, Attr, Decision, Limits, Rules};
use super::Report;
use crate::formats::xml as fx;
use crate::formats::{Context, Disarmed, FormatError};
use crate::model::{ActionKind, Kind};
use quick_xml::events::BytesStart;

/// SVG elements kept.
const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "desc",
    "title",
    "metadata",
    "symbol",
    "use",
    "switch",
    "a",
    "view",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "image",
    "marker",
    "pattern",
    "clipPath",
    "mask",
    "linearGradient",
    "radialGradient",
    "stop",
    "filter",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feComposite",
    "feConvolveMatrix",
    "feDiffuseLighting",
    "feDisplacementMap",
    "feDistantLight",
    "feDropShadow",
    "feFlood",
    "feFuncA",
    "feFuncB",
    "feFuncG",
    "feFuncR",
    "feGaussianBlur",
    "feImage",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
    "fePointLight",
    "feSpecularLighting",
    "feSpotLight",
    "feTile",
    "feTurbulence",
    "style",
    "font",
    "font-face",
    "font-face-src",
    "font-face-name",
    "glyph",
    "missing-glyph",
    "hkern",
    "vkern",
    "animate",
    "animateTransform",
    "animateMotion",
    "animateColor",
    "set",
    "mpath",
];

const ANIMATIONS: &[&str] = &["animate", "animateTransform", "animateMotion", "animateColor", "set"];

/// Attributes (without a namespace) kept on SVG elements.
const ATTRIBUTES: &[&str] = &[
    // core, structure and conditional processing
    "id",
    "class",
    "lang",
    "tabindex",
    "version",
    "baseProfile",
    "requiredFeatures",
    "requiredExtensions",
    "systemLanguage",
    "role",
    "focusable",
    "type",
    "media",
    // geometry
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "fr",
    "d",
    "points",
    "width",
    "height",
    "viewBox",
    "preserveAspectRatio",
    "pathLength",
    "dx",
    "dy",
    "rotate",
    "textLength",
    "lengthAdjust",
    "startOffset",
    "method",
    "spacing",
    "side",
    "transform",
    "transform-origin",
    "zoomAndPan",
    "contentScriptType",
    "contentStyleType",
    // presentation
    "alignment-baseline",
    "baseline-shift",
    "clip",
    "clip-path",
    "clip-rule",
    "color",
    "color-interpolation",
    "color-interpolation-filters",
    "color-rendering",
    "cursor",
    "direction",
    "display",
    "dominant-baseline",
    "enable-background",
    "fill",
    "fill-opacity",
    "fill-rule",
    "filter",
    "flood-color",
    "flood-opacity",
    "font-family",
    "font-size",
    "font-size-adjust",
    "font-stretch",
    "font-style",
    "font-variant",
    "font-weight",
    "glyph-orientation-horizontal",
    "glyph-orientation-vertical",
    "image-rendering",
    "kerning",
    "letter-spacing",
    "lighting-color",
    "marker-end",
    "marker-mid",
    "marker-start",
    "mask",
    "opacity",
    "overflow",
    "paint-order",
    "pointer-events",
    "shape-rendering",
    "stop-color",
    "stop-opacity",
    "stroke",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-opacity",
    "stroke-width",
    "text-anchor",
    "text-decoration",
    "text-rendering",
    "unicode-bidi",
    "vector-effect",
    "visibility",
    "word-spacing",
    "writing-mode",
    "mix-blend-mode",
    "isolation",
    "mask-type",
    // gradients, patterns, clips, masks, markers
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "offset",
    "patternUnits",
    "patternContentUnits",
    "patternTransform",
    "clipPathUnits",
    "maskUnits",
    "maskContentUnits",
    "markerUnits",
    "markerWidth",
    "markerHeight",
    "refX",
    "refY",
    "orient",
    // filters
    "filterUnits",
    "primitiveUnits",
    "filterRes",
    "in",
    "in2",
    "result",
    "stdDeviation",
    "mode",
    "operator",
    "k1",
    "k2",
    "k3",
    "k4",
    "values",
    "tableValues",
    "slope",
    "intercept",
    "amplitude",
    "exponent",
    "order",
    "kernelMatrix",
    "divisor",
    "bias",
    "targetX",
    "targetY",
    "edgeMode",
    "kernelUnitLength",
    "preserveAlpha",
    "surfaceScale",
    "diffuseConstant",
    "specularConstant",
    "specularExponent",
    "limitingConeAngle",
    "pointsAtX",
    "pointsAtY",
    "pointsAtZ",
    "azimuth",
    "elevation",
    "radius",
    "scale",
    "xChannelSelector",
    "yChannelSelector",
    "baseFrequency",
    "numOctaves",
    "seed",
    "stitchTiles",
    "z",
    // fonts
    "horiz-adv-x",
    "horiz-origin-x",
    "horiz-origin-y",
    "vert-adv-y",
    "vert-origin-x",
    "vert-origin-y",
    "unicode",
    "glyph-name",
    "arabic-form",
    "units-per-em",
    "ascent",
    "descent",
    "cap-height",
    "x-height",
    "underline-position",
    "underline-thickness",
    "strikethrough-position",
    "strikethrough-thickness",
    "u1",
    "u2",
    "g1",
    "g2",
    "k",
    "panose-1",
    "slope",
    "bbox",
    "stemv",
    "stemh",
    "widths",
    "accent-height",
    "alphabetic",
    "hanging",
    "ideographic",
    "mathematical",
    // animation timing and values (the target attribute is checked apart)
    "attributeName",
    "attributeType",
    "begin",
    "dur",
    "end",
    "min",
    "max",
    "restart",
    "repeatCount",
    "repeatDur",
    "calcMode",
    "keyTimes",
    "keySplines",
    "from",
    "to",
    "by",
    "additive",
    "accumulate",
    "path",
    "keyPoints",
];

/// Animated attributes that would change a link, a style or a handler.
fn dangerous_animation_target(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    let local = n.rsplit(':').next().unwrap_or(&n);
    matches!(local, "href" | "src" | "style" | "base" | "values" | "from" | "to" | "by" | "attributename")
        || local.starts_with("on")
        || !ATTRIBUTES.iter().any(|a| a.eq_ignore_ascii_case(local))
}

struct Svg {
    max_nesting: u32,
}

impl Svg {
    /// The `href` of an element: kept (`Some`) or reported and dropped.
    fn href(&self, tag: &str, value: &str, report: &mut Report) -> bool {
        let class = urls::classify(value);
        if class == UrlClass::Fragment || (matches!(tag, "image" | "feImage") && urls::is_raster_data(&class)) {
            return true;
        }
        report.add(class.action(), format!("<{tag} href>"), urls::shown(value));
        false
    }
}

impl Rules for Svg {
    fn element(
        &mut self,
        ns: Option<&[u8]>,
        local: &str,
        start: &BytesStart<'_>,
        attrs: Vec<Attr>,
        report: &mut Report,
    ) -> Result<Decision, FormatError> {
        let lower = local.to_ascii_lowercase();
        let place = format!("<{local}>");
        // Whatever their namespace: in SVG, XHTML elements are live too.
        match lower.as_str() {
            "script" | "handler" => report.add(ActionKind::RemovedScript, place.clone(), String::new()),
            "listener" => report.add(ActionKind::RemovedEventListener, place.clone(), String::new()),
            "foreignobject" | "iframe" | "frame" | "object" | "embed" | "applet" => {
                report.add(ActionKind::RemovedEmbeddedFrame, place.clone(), String::new())
            }
            "form" | "input" | "button" | "select" | "textarea" => {
                report.add(ActionKind::RemovedForm, place.clone(), String::new())
            }
            _ => {}
        }
        let is_svg = matches!(ns, None | Some(mx::SVG_NS));
        if !is_svg || !ELEMENTS.contains(&local) {
            // Left out; an element that would have loaded something says so.
            if let Some(a) = attrs.iter().find(|a| a.local == "href" || a.local == "src") {
                let class = urls::classify(&a.value);
                // A script or frame is reported as such; its address only when it is a script.
                let loads =
                    class != UrlClass::Fragment && !matches!(lower.as_str(), "script" | "foreignobject" | "iframe");
                if loads || class.is_dangerous() {
                    report.add(class.action(), format!("<{local} {}>", a.local), urls::shown(&a.value));
                }
            }
            for a in attrs.iter().filter(|a| a.local.len() > 2 && a.local.to_ascii_lowercase().starts_with("on")) {
                report.add(ActionKind::RemovedEventListener, a.local.to_ascii_lowercase(), format!("on {place}"));
            }
            return Ok(Decision::Drop);
        }
        if ANIMATIONS.contains(&local) {
            let target = attrs.iter().find(|a| a.ns.is_none() && a.local == "attributeName").map(|a| a.value.as_str());
            if let Some(t) = target.filter(|t| dangerous_animation_target(t)) {
                report.add(ActionKind::RemovedScript, format!("<{local} attributeName={}>", t.trim()), String::new());
                return Ok(Decision::Drop);
            }
        }
        let mut out = BytesStart::new(String::from_utf8_lossy(start.name().as_ref()).into_owned());
        for a in attrs {
            let lname = a.local.to_ascii_lowercase();
            if a.qname == "xmlns" || a.qname.starts_with("xmlns:") {
                out.push_attribute((a.qname.as_str(), a.value.as_str()));
                continue;
            }
            if lname.len() > 2 && lname.starts_with("on") {
                report.add(ActionKind::RemovedEventListener, lname, format!("on {place}"));
                continue;
            }
            match a.ns.as_deref() {
                Some(mx::XML_NS) => {
                    if matches!(a.local.as_str(), "space" | "lang") {
                        out.push_attribute((a.qname.as_str(), a.value.as_str()));
                    } else if a.local == "base" && !a.value.trim().is_empty() {
                        report.add(ActionKind::RemovedExternalReference, "xml:base", urls::shown(&a.value));
                    }
                    continue;
                }
                Some(mx::XLINK_NS) => {
                    if (a.local == "href" && self.href(local, &a.value, report)) || a.local == "title" {
                        out.push_attribute((a.qname.as_str(), a.value.as_str()));
                    }
                    continue;
                }
                Some(_) => continue,
                None => {}
            }
            if a.local == "href" {
                if self.href(local, &a.value, report) {
                    out.push_attribute((a.qname.as_str(), a.value.as_str()));
                }
                continue;
            }
            if a.local == "style" {
                let (kept, threats) = css::filter_declarations(&a.value, self.max_nesting)?;
                for (kind, what) in threats {
                    report.add(kind, format!("<{local} style>"), what);
                }
                if !kept.is_empty() {
                    out.push_attribute(("style", kept.as_str()));
                }
                continue;
            }
            if !ATTRIBUTES.contains(&a.local.as_str()) {
                continue;
            }
            // Presentation attributes are CSS values: `fill="url(http://...)"` loads a file.
            if a.value.contains('(') || a.value.contains('\\') {
                let threats = css::scan(&a.value, self.max_nesting)?;
                if !threats.is_empty() {
                    for (kind, what) in threats {
                        report.add(kind, format!("<{local} {}>", a.local), what);
                    }
                    continue;
                }
            }
            out.push_attribute((a.qname.as_str(), a.value.as_str()));
        }
        Ok(if local == "style" { Decision::Sheet(out) } else { Decision::Keep(out) })
    }

    fn keep_pi(&mut self, target: &str, content: &str, report: &mut Report) -> bool {
        if target.eq_ignore_ascii_case("xml-stylesheet") {
            report.add(ActionKind::RemovedExternalReference, "<?xml-stylesheet?>", content.trim().to_string());
        }
        false
    }

    fn doctype(&mut self, text: &[u8]) -> Result<(), FormatError> {
        let t = String::from_utf8_lossy(text);
        let t = t.trim();
        // `<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://...">`: no internal subset, so
        // no entity can be defined; no browser fetches the external one.
        if t.starts_with("svg") && !t.contains('[') && !t.contains('<') {
            return Ok(());
        }
        Err(fx::doctype_error("svg"))
    }

    fn sheet(&mut self, text: &str) -> Result<Vec<(ActionKind, String)>, FormatError> {
        css::scan(text, self.max_nesting)
    }
}

pub fn disarm(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let limits = Limits { part: "svg", max_depth: ctx.config.limits.max_xml_depth };
    let mut rules = Svg { max_nesting: ctx.config.limits.max_nesting };
    let (out, report) = mx::rewrite(data, &mut rules, &limits, ctx)?;
    Ok(Disarmed { name: None, data: out, kind: Kind::Svg, actions: report.into_actions() })
}
