//! TEMPORARY minimal stand-in (no validation) until the validated reader lands.
use crate::engine::Budget;
use crate::formats::FormatError;
use std::io::{Cursor, Read};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflated,
}
#[derive(Debug, Clone)]
pub struct Entry {
    pub index: usize,
    pub name: String,
    pub is_dir: bool,
    pub method: Method,
    pub compressed_size: u64,
    pub size: u64,
    pub crc32: u32,
    pub header_start: u64,
    pub data_start: u64,
}
pub struct ZipIndex<'a> {
    data: &'a [u8],
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    entries: Vec<Entry>,
}
impl<'a> ZipIndex<'a> {
    pub fn open(data: &'a [u8], budget: &Budget) -> Result<Self, FormatError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(data)).map_err(|e| FormatError::malformed(e.to_string()))?;
        budget.charge_entries(archive.len() as u64)?;
        let mut entries = Vec::new();
        for i in 0..archive.len() {
            let f = archive.by_index_raw(i).map_err(|e| FormatError::malformed(e.to_string()))?;
            entries.push(Entry {
                index: i,
                name: f.name().map(|n| n.into_owned()).unwrap_or_default(),
                is_dir: f.is_dir(),
                method: if f.compression() == zip::CompressionMethod::Stored {
                    Method::Stored
                } else {
                    Method::Deflated
                },
                compressed_size: f.compressed_size(),
                size: f.size(),
                crc32: f.crc32(),
                header_start: f.header_start(),
                data_start: f.data_start().unwrap_or(0),
            });
        }
        Ok(ZipIndex { data, archive, entries })
    }
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    pub fn read(&self, e: &Entry, budget: &Budget) -> Result<Vec<u8>, FormatError> {
        budget.charge_bytes(e.size)?;
        let raw = &self.data[e.data_start as usize..(e.data_start + e.compressed_size) as usize];
        let mut out = Vec::new();
        match e.method {
            Method::Stored => out.extend_from_slice(raw),
            Method::Deflated => {
                flate2::read::DeflateDecoder::new(raw)
                    .take(e.size + 1)
                    .read_to_end(&mut out)
                    .map_err(|x| FormatError::malformed(x.to_string()))?;
            }
        }
        if crc32fast::hash(&out) != e.crc32 {
            return Err(FormatError::malformed("crc"));
        }
        Ok(out)
    }
    pub fn raw_copy<W: std::io::Write + std::io::Seek>(
        &mut self,
        e: &Entry,
        w: &mut zip::ZipWriter<W>,
        _n: Option<&str>,
    ) -> Result<(), FormatError> {
        let f = self.archive.by_index_raw(e.index).map_err(|x| FormatError::malformed(x.to_string()))?;
        w.raw_copy_file(f).map_err(|x| FormatError::malformed(x.to_string()))
    }
}
pub fn deterministic_options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
}
