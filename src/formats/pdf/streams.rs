//! Stream data: every stream kept is decoded once within the limits, so that a stream that
//! inflates to gigabytes is refused here rather than passed on to a viewer, and a stream whose
//! compressed data is damaged is rebuilt from what decodes (the bytes forwarded are then bytes
//! this rewrite produced).
//!
//! Image codecs (DCT, JPX, JBIG2, CCITT fax) are not decoded: like pictures in Office packages
//! they are data, not structure, and carry nothing active. The general-purpose filters in front
//! of them are.

use super::load::over;
use super::Pdf;
use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::Reason;
use lopdf::{Object, ObjectId, Stream};
use rayon::prelude::*;
use std::io::{Read, Write};

/// Filters whose output is more data (decoded here).
const GENERAL_FILTERS: [&[u8]; 6] =
    [b"FlateDecode", b"LZWDecode", b"ASCII85Decode", b"ASCIIHexDecode", b"RunLengthDecode", b"BrotliDecode"];

/// Image codecs (their output is an image, not decoded here).
const IMAGE_FILTERS: [&[u8]; 4] = [b"DCTDecode", b"JPXDecode", b"JBIG2Decode", b"CCITTFaxDecode"];

/// A writer that only counts, and fails past its limit.
struct Counter {
    n: u64,
    limit: u64,
}

impl Write for Counter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.n += b.len() as u64;
        if self.n > self.limit {
            return Err(std::io::Error::other("limit"));
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A reader between two inflate layers that fails once more than `limit` bytes passed through
/// it, and says so in `over`.
struct Capped<'a, R> {
    inner: R,
    n: u64,
    limit: u64,
    over: &'a std::cell::Cell<bool>,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        if self.n > self.limit {
            self.over.set(true);
            return Err(std::io::Error::other("limit"));
        }
        Ok(k)
    }
}

/// The number of `FlateDecode` filters a stream's general filters are, when they are nothing
/// else (`[/FlateDecode /FlateDecode]` is 2); 0 otherwise.
pub(super) fn flate_layers(general: &[&[u8]]) -> usize {
    if general.iter().all(|f| *f == b"FlateDecode") {
        general.len()
    } else {
        0
    }
}

/// How far zlib data compressed `layers` times inflates, counted without keeping the output of
/// any layer: `Ok(n)`, or `Err(n)` with the bytes counted when a layer passes `limit` or the
/// data turns out damaged (`n > limit` tells which). Every layer counts against `limit`, so that
/// a bomb inside a bomb is stopped at the first layer that expands too far.
pub(super) fn inflated_size(data: &[u8], layers: usize, limit: u64) -> Result<u64, u64> {
    let over = std::cell::Cell::new(false);
    let mut reader: Box<dyn Read + '_> = Box::new(flate2::read::ZlibDecoder::new(data));
    for _ in 1..layers {
        let capped = Capped { inner: reader, n: 0, limit, over: &over };
        reader = Box::new(flate2::read::ZlibDecoder::new(capped));
    }
    let mut counter = Counter { n: 0, limit };
    match std::io::copy(&mut reader, &mut counter) {
        Ok(_) => Ok(counter.n),
        Err(_) if over.get() => Err(limit.saturating_add(1)),
        Err(_) => Err(counter.n),
    }
}

/// The limit for one stream: the per-stream limit or what is left of the input's allowance.
fn limit_for(budget: &Budget, max_stream: u64) -> u64 {
    max_stream.min(budget.bytes_left())
}

/// The decoded data of a stream (an attachment), or `None` when it does not decode.
pub(super) fn decode(
    s: &Stream,
    id: ObjectId,
    budget: &Budget,
    max_stream: u64,
) -> Result<Option<Vec<u8>>, FormatError> {
    let limit = limit_for(budget, max_stream);
    match s.decompressed_content_with_limit(usize::try_from(limit).unwrap_or(usize::MAX)) {
        Ok(data) => {
            budget.charge_bytes(data.len() as u64)?;
            Ok(Some(data))
        }
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
            Err(over(id, limit, max_stream))
        }
        Err(_) => Ok(None),
    }
}

/// zlib-compresses data for a stream this rewrite writes.
pub(super) fn compress(data: &[u8]) -> Result<Vec<u8>, FormatError> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::with_capacity(data.len() / 2), flate2::Compression::default());
    z.write_all(data)
        .and_then(|_| z.finish())
        .map_err(|e| FormatError::new(Reason::InternalError, format!("compressing a stream: {e}")))
}

/// What checking a stream found: `Some(data)` when it must be rebuilt from `data`.
type Checked = Result<Option<Vec<u8>>, FormatError>;

/// Checks that a stream decodes within the limits. `Ok(Some(data))`: the compressed data is
/// damaged and `data` is what decodes, to be written anew.
fn verify(s: &Stream, id: ObjectId, budget: &Budget, max_stream: u64) -> Checked {
    let filters: Vec<&[u8]> = match s.filters() {
        Ok(f) => f,
        Err(_) if !s.dict.has(b"Filter") => return Ok(None),
        Err(_) => return Err(FormatError::malformed(format!("stream {} {} R: /Filter is not a name", id.0, id.1))),
    };
    let general = filters.iter().take_while(|f| GENERAL_FILTERS.contains(f)).count();
    if let Some(other) = filters[general..].iter().find(|f| !IMAGE_FILTERS.contains(f)) {
        return Err(FormatError::new(
            Reason::Unsupported,
            format!("stream {} {} R: filter /{}", id.0, id.1, super::show(other)),
        ));
    }
    if filters.len() > general + 1 {
        return Err(FormatError::new(Reason::Unsupported, format!("stream {} {} R: image codecs chained", id.0, id.1)));
    }
    if general == 0 {
        return Ok(None);
    }
    let limit = limit_for(budget, max_stream);
    let layers = flate_layers(&filters[..general]);
    if layers > 0 {
        // The common case (and a bomb inside a bomb), streamed: nothing is kept in memory.
        let r = inflated_size(&s.content, layers, limit);
        budget.charge_bytes(r.unwrap_or_else(|n| n))?;
        match r {
            Ok(_) => return Ok(None),
            Err(n) if n > limit => return Err(over(id, limit, max_stream)),
            // Damaged: decoded below with lopdf's lenient decoder, and rebuilt (a single layer;
            // what decodes of several layers is only checked).
            Err(_) => {}
        }
    }
    let image = filters.len() > general;
    let mut probe;
    let s = if image {
        // Only the general filters in front of the image codec are decoded.
        probe = s.clone();
        probe.dict.set("Filter", Object::Array(filters[..general].iter().map(|f| Object::Name(f.to_vec())).collect()));
        &probe
    } else {
        s
    };
    match s.decompressed_content_with_limit(usize::try_from(limit).unwrap_or(usize::MAX)) {
        Ok(data) => {
            budget.charge_bytes(data.len() as u64)?;
            // Decodes: nothing to rebuild unless the fast path above found damage.
            let damaged = general == 1 && filters[0] == b"FlateDecode";
            Ok((damaged && !image).then_some(data))
        }
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
            Err(over(id, limit, max_stream))
        }
        Err(e) => Err(FormatError::malformed(format!("stream {} {} R does not decode: {e}", id.0, id.1))),
    }
}

impl Pdf<'_, '_> {
    /// Decodes every stream this rewrite did not make, in parallel, and rebuilds the damaged
    /// ones from what decodes.
    pub(super) fn check_streams(&mut self) -> Result<(), FormatError> {
        let budget = self.ctx.budget;
        let max_stream = budget.limits().max_stream_bytes;
        let ids: Vec<ObjectId> = self
            .objects
            .iter()
            .filter(|(id, o)| matches!(o, Object::Stream(_)) && !self.made_streams.contains(id))
            .map(|(id, _)| *id)
            .collect();
        let objects = &self.objects;
        let results: Vec<(ObjectId, Checked)> = ids
            .par_iter()
            .map(|id| {
                let r = budget.check_time().and_then(|_| match objects.get(id) {
                    Some(Object::Stream(s)) => verify(s, *id, budget, max_stream),
                    _ => Ok(None),
                });
                (*id, r)
            })
            .collect();
        for (id, r) in results {
            let Some(plain) = r? else { continue };
            let compressed = compress(&plain)?;
            if let Some(Object::Stream(s)) = self.objects.get_mut(&id) {
                s.dict.remove(b"DecodeParms");
                s.dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
                s.set_content(compressed);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflated_size_counts_exactly_and_stops_past_the_limit() {
        let data = vec![0u8; 8 << 20];
        let z = compress(&data).unwrap();
        assert_eq!(inflated_size(&z, 1, u64::MAX), Ok(8 << 20));
        let r = inflated_size(&z, 1, 1 << 20);
        assert!(matches!(r, Err(n) if n > 1 << 20 && n < 8 << 20), "{r:?}");
        // Damaged data: fails within the limit.
        let mut cut = z.clone();
        cut.truncate(z.len() / 2);
        cut.extend_from_slice(&[0xff; 16]);
        assert!(matches!(inflated_size(&cut, 1, u64::MAX), Err(n) if n < 8 << 20));
    }

    #[test]
    fn inflated_size_counts_every_layer_and_stops_past_the_limit_in_any() {
        let data = vec![0u8; 8 << 20];
        let twice = compress(&compress(&data).unwrap()).unwrap();
        assert_eq!(inflated_size(&twice, 2, u64::MAX), Ok(8 << 20));
        let r = inflated_size(&twice, 2, 1 << 20);
        assert!(matches!(r, Err(n) if n > 1 << 20), "{r:?}");
        // Read as one layer, the outer one inflates to the inner stream.
        let inner_len = compress(&data).unwrap().len() as u64;
        assert_eq!(inflated_size(&twice, 1, u64::MAX), Ok(inner_len));
        // An inner layer of 100 000 bytes of empty stored blocks inflates to nothing: only the
        // layer in between is past the limit, and that is enough.
        let mut empty_blocks = vec![0x78, 0x01];
        for _ in 0..20_000 {
            empty_blocks.extend_from_slice(&[0x00, 0x00, 0x00, 0xFF, 0xFF]);
        }
        empty_blocks.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01]);
        let wrapped = compress(&empty_blocks).unwrap();
        assert_eq!(inflated_size(&wrapped, 2, u64::MAX), Ok(0));
        assert!(matches!(inflated_size(&wrapped, 2, 10_000), Err(n) if n > 10_000));
        assert_eq!(flate_layers(&[b"FlateDecode", b"FlateDecode"]), 2);
        assert_eq!(flate_layers(&[b"FlateDecode", b"ASCII85Decode"]), 0);
    }
}
