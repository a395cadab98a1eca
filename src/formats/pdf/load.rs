//! Loading a PDF into its object graph under the input's limits.
//!
//! lopdf parses the file (cross-reference tables and streams, object streams, incremental
//! updates merged, damaged cross-reference data rebuilt by scanning). What lopdf cannot bound by
//! itself is bounded here: a load filter, called for every object as it is read, counts objects
//! against `max_objects` and expands each object stream itself, charging the expanded bytes to
//! the input's budget, so that neither a file of millions of objects nor many object streams
//! that each inflate to the per-stream limit can exhaust memory. A file cut short is refused
//! before it is parsed.

use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::Reason;
use lopdf::{Document, LoadOptions, Object, ObjectId};
use std::cell::RefCell;

/// What the load filter keeps track of. The filter is a plain function pointer, so its state
/// lives in a thread-local; lopdf is built without its parallel loader, so the filter runs on
/// the thread that called [`load`].
struct LoadState {
    objects: u64,
    max_objects: u64,
    /// Bytes object streams may still expand to.
    bytes_left: u64,
    max_stream_bytes: u64,
    /// Expanded bytes charged so far (charged to the budget once loading ends).
    expanded: u64,
    error: Option<FormatError>,
}

thread_local! {
    static STATE: RefCell<Option<LoadState>> = const { RefCell::new(None) };
}

/// Clears the thread-local state however loading ends (also on a panic inside lopdf).
struct StateGuard;

impl Drop for StateGuard {
    fn drop(&mut self) {
        STATE.with(|s| s.borrow_mut().take());
    }
}

fn filter(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    STATE.with(|cell| {
        let mut guard = cell.borrow_mut();
        let st = guard.as_mut()?;
        if st.error.is_some() {
            return None;
        }
        st.objects += 1;
        if st.objects > st.max_objects {
            st.error = Some(FormatError::new(Reason::LimitObjects, format!("more than {} objects", st.max_objects)));
            return None;
        }
        if let Object::Stream(stream) = object {
            if stream.dict.has_type(b"ObjStm") && stream.dict.has(b"Filter") {
                let limit = st.max_stream_bytes.min(st.bytes_left);
                // A bomb is measured before anything is allocated for it (also one compressed
                // twice, which lopdf would inflate layer by layer up to the limit).
                let layers = stream.filters().map(|f| super::streams::flate_layers(&f)).unwrap_or(0);
                if layers > 0 {
                    if let Err(n) = super::streams::inflated_size(&stream.content, layers, limit) {
                        if n > limit {
                            st.error = Some(over(id, limit, st.max_stream_bytes));
                            return None;
                        }
                    }
                }
                match stream.decompressed_content_with_limit(usize::try_from(limit).unwrap_or(usize::MAX)) {
                    Ok(plain) => {
                        st.bytes_left -= plain.len() as u64;
                        st.expanded += plain.len() as u64;
                        stream.set_plain_content(plain);
                    }
                    Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
                        st.error = Some(over(id, limit, st.max_stream_bytes));
                        return None;
                    }
                    // A broken object stream loses its objects, like any object that does not
                    // parse; what references them finds them missing (see `graph`).
                    Err(_) => return None,
                }
            }
        }
        // lopdf keeps the object it passed in for objects read from the file and takes the
        // returned one for objects read from object streams (never streams themselves).
        match object {
            Object::Stream(_) => Some((id, Object::Null)),
            other => Some((id, other.clone())),
        }
    })
}

/// A stream that expands past `limit`: the per-stream limit, or what was left of the input's
/// allowance when that was smaller.
pub(super) fn over(id: ObjectId, limit: u64, max_stream: u64) -> FormatError {
    if limit < max_stream {
        FormatError::new(
            Reason::LimitTotalBytes,
            format!("stream {} {} R expands past the input's allowance", id.0, id.1),
        )
    } else {
        FormatError::new(
            Reason::LimitStreamBytes,
            format!("stream {} {} R expands beyond {max_stream} bytes", id.0, id.1),
        )
    }
}

/// A loaded document and what loading it found.
pub(super) struct Loaded {
    pub doc: Document,
    /// The input was encrypted and opened with the empty user password.
    pub decrypted: bool,
    /// The cross-reference data was rebuilt by scanning the file.
    pub repaired: bool,
    /// The file kept objects in object streams (it is written back the same compact way).
    pub compact: bool,
}

/// Parses `data` into its object graph, within the budget's limits.
pub(super) fn load(data: &[u8], budget: &Budget) -> Result<Loaded, FormatError> {
    load_with(data, budget, None)
}

/// [`load`], decrypting with `password` (the user or the owner password) when one is given.
pub(super) fn load_with(data: &[u8], budget: &Budget, password: Option<&str>) -> Result<Loaded, FormatError> {
    if cut_short(data) {
        return Err(FormatError::malformed(
            "the file is cut short: no end-of-file marker (%%EOF) after its last object",
        ));
    }
    let limits = budget.limits();
    let bytes_left = budget.bytes_left();
    let max_stream = limits.max_stream_bytes;
    let attempt = |force_reconstruct: bool| -> Result<Document, FormatError> {
        let _guard = StateGuard;
        STATE.with(|s| {
            *s.borrow_mut() = Some(LoadState {
                objects: 0,
                max_objects: limits.max_objects,
                bytes_left,
                max_stream_bytes: max_stream,
                expanded: 0,
                error: None,
            })
        });
        let options = LoadOptions {
            filter: Some(filter),
            max_decompressed_size: Some(usize::try_from(max_stream.min(bytes_left)).unwrap_or(usize::MAX)),
            force_reconstruct,
            password: password.map(str::to_owned),
            ..LoadOptions::default()
        };
        let result = Document::load_mem_with_options(data, options);
        let state = STATE.with(|s| s.borrow_mut().take());
        let (expanded, error) = state.map(|s| (s.expanded, s.error)).unwrap_or((0, None));
        budget.charge_bytes(expanded)?;
        if let Some(e) = error {
            return Err(e);
        }
        result.map_err(map_error)
    };
    let mut doc = attempt(false)?;
    if needs_password(&doc) {
        return Err(FormatError::new(Reason::Encrypted, "the PDF needs a password to open"));
    }
    // An encrypted document is loaded without the filter (lopdf decrypts every object first):
    // count its objects now.
    if doc.objects.len() as u64 > limits.max_objects {
        return Err(FormatError::new(Reason::LimitObjects, format!("more than {} objects", limits.max_objects)));
    }
    // With a load filter lopdf leaves the rebuild of a table whose page tree does not load to
    // the caller.
    let mut repaired = doc.xref_recovery == Some(lopdf::xref::XrefRecovery::Reconstructed);
    if !repaired && !page_tree_loaded(&doc) {
        if let Ok(rebuilt) = attempt(true) {
            if page_tree_loaded(&rebuilt) {
                doc = rebuilt;
                repaired = true;
            }
        }
    }
    let decrypted = doc.encryption_state.is_some();
    let compact = doc.reference_table.entries.values().any(|e| matches!(e, lopdf::xref::XrefEntry::Compressed { .. }));
    Ok(Loaded { doc, decrypted, repaired, compact })
}

/// Whether the file was cut short. A complete file, and each complete incremental update, ends
/// with `%%EOF` after its last object; readers tolerate junk after the marker (padding, a mail
/// footer), so only a file whose last object has no marker after it counts, or one with an
/// object begun after its last `endobj` (an update cut inside its first object). lopdf would
/// rebuild such a file from what is left, and the result would silently lack whatever followed
/// the cut (the rest of a page's content, the fonts and pictures it refers to, a revision).
fn cut_short(data: &[u8]) -> bool {
    use memchr::memmem;
    // With no object at all there is nothing to lose: the parser says what is wrong.
    let Some(end) = memmem::rfind(data, b"endobj") else { return false };
    let after = &data[end + 6..];
    !after.windows(5).any(|w| w == b"%%EOF")
        || memmem::find_iter(after, b"obj").any(|i| object_header_ends_at(after, i))
}

/// Whether `obj` at `at` closes an object header: `<number> <generation> obj`.
fn object_header_ends_at(data: &[u8], at: usize) -> bool {
    let before = &data[..at];
    let mut rest = before;
    for _ in 0..2 {
        let ws = rest.iter().rev().take_while(|b| b.is_ascii_whitespace()).count();
        rest = &rest[..rest.len() - ws];
        let digits = rest.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        if ws == 0 || digits == 0 {
            return false;
        }
        rest = &rest[..rest.len() - digits];
    }
    true
}

/// Encrypted with a password other than the empty one: lopdf loads the cross-reference data but
/// none of the objects, and keeps `/Encrypt` in the trailer.
fn needs_password(doc: &Document) -> bool {
    doc.trailer.has(b"Encrypt") && doc.encryption_state.is_none()
}

fn page_tree_loaded(doc: &Document) -> bool {
    let root = doc.trailer.get(b"Root").and_then(Object::as_reference).ok();
    let pages =
        root.and_then(|r| doc.get_dictionary(r).ok()).and_then(|c| c.get(b"Pages").and_then(Object::as_reference).ok());
    pages.and_then(|p| doc.get_dictionary(p).ok()).is_some_and(|d| d.has(b"Kids"))
}

fn map_error(e: lopdf::Error) -> FormatError {
    use lopdf::Error as E;
    match e {
        E::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
            FormatError::new(Reason::LimitStreamBytes, "a cross-reference or object stream expands too far")
        }
        E::Decryption(e) => FormatError::new(Reason::Encrypted, format!("cannot decrypt: {e}")),
        E::InvalidPassword => FormatError::new(Reason::Encrypted, "the PDF needs a password to open"),
        E::UnsupportedSecurityHandler(h) => FormatError::new(
            Reason::Encrypted,
            format!("encrypted with the {} security handler", String::from_utf8_lossy(&h)),
        ),
        E::Unimplemented(what) => FormatError::new(Reason::Unsupported, what),
        other => FormatError::malformed(format!("PDF does not parse: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_cut_short_when_its_last_object_has_no_end_marker_after_it() {
        let whole = b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n";
        assert!(!cut_short(whole));
        assert!(!cut_short(&[whole.as_slice(), &[0; 2048], b"-- footer"].concat()), "junk after the marker");
        assert!(cut_short(&whole[..whole.len() - 8]), "cut in the trailer");
        assert!(cut_short(b"%PDF-1.7\n1 0 obj\n<< /Length 10 >>\nstream\nabc\nendobj\n"), "no marker");
        let update = [whole.as_slice(), b"2 0 obj\n<< /Type /Annot /Contents (cu"].concat();
        assert!(cut_short(&update), "an update cut inside its first object");
        assert!(!cut_short(b"%PDF-1.7\nnoise"), "no object: left to the parser");
    }

    #[test]
    fn object_headers_are_number_generation_obj() {
        let at = |s: &[u8]| s.len() - 3;
        assert!(object_header_ends_at(b"\n12 0 obj", at(b"\n12 0 obj")));
        assert!(object_header_ends_at(b"7\r\n0\tobj", at(b"7\r\n0\tobj")));
        assert!(!object_header_ends_at(b"endobj", at(b"endobj")));
        assert!(!object_header_ends_at(b"(an obj", at(b"(an obj")));
        assert!(!object_header_ends_at(b"0 obj", at(b"0 obj")));
    }
}
