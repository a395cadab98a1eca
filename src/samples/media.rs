//! Binary payloads the samples carry: PNG images, compound files (VBA projects, OLE packages,
//! ActiveX control data) and a PE header. All are made here, byte by byte; none run anything.

use std::io::{Cursor, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A small deterministic pseudo-random generator (xorshift64*), so that "random" payloads are
/// the same on every run without a dependency.
#[derive(Clone, Debug)]
pub struct Prng(u64);

impl Prng {
    pub fn new(seed: u64) -> Self {
        Prng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0; n];
        self.fill(&mut v);
        v
    }
}

/// Adler-32, the checksum a zlib stream ends with.
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += x as u32;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// A zlib stream made of stored (uncompressed) deflate blocks: valid everywhere, no encoder.
pub fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 65535 * 5 + 16);
    out.extend_from_slice(&[0x78, 0x01]);
    let mut blocks = data.chunks(65535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        out.push(if blocks.peek().is_none() { 1 } else { 0 });
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
}

/// An 8-bit RGB PNG whose pixels come from `pixel(x, y)`.
pub fn png(width: u32, height: u32, mut pixel: impl FnMut(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let mut raw = Vec::with_capacity((height * (1 + width * 3)) as usize);
    for y in 0..height {
        raw.push(0); // filter type None
        for x in 0..width {
            raw.extend_from_slice(&pixel(x, y));
        }
    }
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // depth 8, RGB, deflate, adaptive filters, no interlace
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// The picture the samples show: a 16x16 four-colour tile.
pub fn sample_png() -> Vec<u8> {
    png(16, 16, |x, y| match (x < 8, y < 8) {
        (true, true) => [0x1F, 0x4E, 0x79],
        (false, true) => [0xF2, 0xC8, 0x11],
        (true, false) => [0x2E, 0x8B, 0x57],
        (false, false) => [0xC0, 0x39, 0x2B],
    })
}

/// A PNG of noise: it does not compress, so packages made of these stay as large as asked.
pub fn noise_png(width: u32, height: u32, rng: &mut Prng) -> Vec<u8> {
    let mut bytes = rng.bytes((width * height * 3) as usize).into_iter();
    png(width, height, |_, _| {
        let mut p = [0; 3];
        for v in &mut p {
            *v = bytes.next().unwrap_or(0);
        }
        p
    })
}

/// The first bytes of a Windows program: DOS header, stub, PE signature, COFF header and an
/// empty optional header. No sections, no code.
pub fn pe_header() -> Vec<u8> {
    let mut d = vec![0u8; 0x80];
    d[0] = b'M';
    d[1] = b'Z';
    d[2..4].copy_from_slice(&0x90u16.to_le_bytes());
    d[4..6].copy_from_slice(&3u16.to_le_bytes());
    d[8..10].copy_from_slice(&4u16.to_le_bytes());
    d[0x0C..0x0E].copy_from_slice(&0xFFFFu16.to_le_bytes());
    d[0x10..0x12].copy_from_slice(&0xB8u16.to_le_bytes());
    d[0x18..0x1A].copy_from_slice(&0x40u16.to_le_bytes());
    d[0x3C..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    let stub = b"This program cannot be run in DOS mode.\r\r\n$";
    d[0x4E..0x4E + stub.len()].copy_from_slice(stub);
    d.extend_from_slice(b"PE\0\0");
    d.extend_from_slice(&0x014Cu16.to_le_bytes()); // i386
    d.extend_from_slice(&0u16.to_le_bytes()); // sections
    d.extend_from_slice(&0u32.to_le_bytes()); // timestamp
    d.extend_from_slice(&0u32.to_le_bytes());
    d.extend_from_slice(&0u32.to_le_bytes());
    d.extend_from_slice(&0xE0u16.to_le_bytes()); // size of optional header
    d.extend_from_slice(&0x0102u16.to_le_bytes()); // executable, 32-bit
    let mut opt = vec![0u8; 0xE0];
    opt[0..2].copy_from_slice(&0x010Bu16.to_le_bytes()); // PE32
    d.extend_from_slice(&opt);
    d
}

/// A compound file (version 3) with the given storages and streams; every timestamp fixed.
pub fn compound_file(storages: &[&str], streams: &[(&str, &[u8])]) -> Vec<u8> {
    let mut cf = cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
        .expect("compound file in memory");
    for s in storages {
        cf.create_storage(s).expect("storage");
    }
    for (path, data) in streams {
        let mut st = cf.create_stream(path).expect("stream");
        st.write_all(data).expect("stream write");
    }
    let cfb_epoch = UNIX_EPOCH - Duration::from_secs(11_644_473_600);
    let fixed: SystemTime = UNIX_EPOCH + Duration::from_secs(1_711_962_000);
    cf.set_created_time("/", cfb_epoch).expect("root time");
    cf.set_modified_time("/", fixed).expect("root time");
    for s in storages {
        cf.set_created_time(s, fixed).expect("storage time");
        cf.set_modified_time(s, fixed).expect("storage time");
    }
    cf.flush().expect("flush");
    cf.into_inner().into_inner()
}

/// MS-OVBA compression, literal tokens only: a valid compressed container that any VBA reader
/// decompresses, without the matching a real compressor does. `data` fits one chunk.
pub fn ovba_compress(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x01];
    for chunk in data.chunks(4096) {
        let mut body = Vec::with_capacity(chunk.len() + chunk.len() / 8 + 1);
        for group in chunk.chunks(8) {
            body.push(0x00); // eight literal tokens
            body.extend_from_slice(group);
        }
        assert!(body.len() + 2 <= 4098, "ovba_compress handles short streams only");
        let header = 0xB000u16 | (body.len() as u16 + 2 - 3);
        out.extend_from_slice(&header.to_le_bytes());
        out.extend_from_slice(&body);
    }
    out
}

fn rec(out: &mut Vec<u8>, id: u16, data: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// The decompressed `VBA/dir` stream (MS-OVBA 2.3.4.2) of a project with one standard module.
fn vba_dir(module: &str) -> Vec<u8> {
    let mut d = Vec::new();
    rec(&mut d, 0x0001, &1u32.to_le_bytes()); // SYSKIND: Win32
    rec(&mut d, 0x0002, &0x0409u32.to_le_bytes()); // LCID
    rec(&mut d, 0x0014, &0x0409u32.to_le_bytes()); // LCIDINVOKE
    rec(&mut d, 0x0003, &1252u16.to_le_bytes()); // CODEPAGE
    rec(&mut d, 0x0004, b"VBAProject"); // NAME
    rec(&mut d, 0x0005, b""); // DOCSTRING
    rec(&mut d, 0x0040, b"");
    rec(&mut d, 0x0006, b""); // HELPFILEPATH
    rec(&mut d, 0x003D, b"");
    rec(&mut d, 0x0007, &0u32.to_le_bytes()); // HELPCONTEXT
    rec(&mut d, 0x0008, &0u32.to_le_bytes()); // LIBFLAGS
                                              // VERSION: its "size" field is a reserved 4, followed by major (u32) and minor (u16).
    d.extend_from_slice(&0x0009u16.to_le_bytes());
    d.extend_from_slice(&4u32.to_le_bytes());
    d.extend_from_slice(&1u32.to_le_bytes());
    d.extend_from_slice(&0u16.to_le_bytes());
    rec(&mut d, 0x000C, b""); // CONSTANTS
    rec(&mut d, 0x003C, b"");
    // No references. Modules:
    rec(&mut d, 0x000F, &1u16.to_le_bytes());
    rec(&mut d, 0x0013, &0xFFFFu16.to_le_bytes()); // PROJECTCOOKIE
    rec(&mut d, 0x0019, module.as_bytes()); // MODULENAME
    rec(&mut d, 0x0047, &utf16(module));
    rec(&mut d, 0x001A, module.as_bytes()); // MODULESTREAMNAME
    rec(&mut d, 0x0032, &utf16(module));
    rec(&mut d, 0x001C, b""); // MODULEDOCSTRING
    rec(&mut d, 0x0048, b"");
    rec(&mut d, 0x0031, &0u32.to_le_bytes()); // MODULEOFFSET: source starts at 0
    rec(&mut d, 0x001E, &0u32.to_le_bytes()); // MODULEHELPCONTEXT
    rec(&mut d, 0x002C, &0xFFFFu16.to_le_bytes()); // MODULECOOKIE
    rec(&mut d, 0x0021, b""); // MODULETYPE: procedural
    rec(&mut d, 0x002B, b""); // module terminator
    rec(&mut d, 0x0010, b""); // end of modules
    d
}

/// A VBA project (`vbaProject.bin`): `PROJECT`, `VBA/_VBA_PROJECT`, `VBA/dir` and one module
/// whose source defines `entry` (for example `AutoOpen` or `Workbook_Open`) showing a message box.
pub fn vba_project(entry: &str) -> Vec<u8> {
    let module = "Module1";
    let source = format!(
        "Attribute VB_Name = \"{module}\"\r\nSub {entry}()\r\n    MsgBox \"mugai sample macro\"\r\nEnd Sub\r\n"
    );
    let project = format!(
        "ID=\"{{6D756761-6900-4000-8000-73616D706C65}}\"\r\nModule={module}\r\nName=\"VBAProject\"\r\n\
HelpContextID=\"0\"\r\nVersionCompatible32=\"393222000\"\r\n\r\n[Host Extender Info]\r\n\
&H00000001={{3832D640-CF90-11CF-8E43-00A0C911005A}};VBE;&H00000000\r\n\r\n[Workspace]\r\n{module}=0, 0, 0, 0, C\r\n"
    );
    let dir = ovba_compress(&vba_dir(module));
    let code = ovba_compress(source.as_bytes());
    let vba_project_stream = [0xCC, 0x61, 0xFF, 0xFF, 0x00, 0x00, 0x00];
    compound_file(
        &["/VBA"],
        &[
            ("/PROJECT", project.as_bytes()),
            ("/VBA/_VBA_PROJECT", &vba_project_stream),
            ("/VBA/dir", &dir),
            ("/VBA/Module1", &code),
        ],
    )
}

/// An OLE "Package" object (`oleObject1.bin`): a compound file whose `\x01Ole10Native` stream
/// carries a small batch file, the way a packaged attachment is stored.
pub fn ole_package(file_name: &str, content: &[u8]) -> Vec<u8> {
    compound_file(&[], &[("/\u{1}Ole10Native", &ole10_native(file_name, content))])
}

/// The `\x01Ole10Native` data of an OLE Package holding `file_name` with `content`.
pub fn ole10_native(file_name: &str, content: &[u8]) -> Vec<u8> {
    let path = format!("C:\\Users\\Public\\{file_name}");
    let mut body = Vec::new();
    body.extend_from_slice(&2u16.to_le_bytes());
    for s in [file_name, path.as_str()] {
        body.extend_from_slice(s.as_bytes());
        body.push(0);
    }
    body.extend_from_slice(&0x0003_0000u32.to_le_bytes());
    body.extend_from_slice(&(path.len() as u32 + 1).to_le_bytes());
    body.extend_from_slice(path.as_bytes());
    body.push(0);
    body.extend_from_slice(&(content.len() as u32).to_le_bytes());
    body.extend_from_slice(content);
    let mut native = (body.len() as u32).to_le_bytes().to_vec();
    native.extend_from_slice(&body);
    native
}

/// Stand-in data for an ActiveX control (`activeX1.bin`): a compound file with a short
/// `contents` stream. Only its presence matters to the samples.
pub fn activex_data() -> Vec<u8> {
    let mut contents = vec![0x00, 0x02, 0x20, 0x00];
    contents.extend_from_slice(&[0x35, 0x00, 0x00, 0x00, 0x0F, 0x00, 0x00, 0x80]);
    contents.extend_from_slice(&[0x09, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00]);
    contents.extend_from_slice(b"CheckBox1\0\0\0");
    compound_file(&[], &[("/contents", &contents)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn png_has_signature_and_valid_crcs() {
        let p = sample_png();
        assert!(p.starts_with(b"\x89PNG\r\n\x1a\n"));
        let mut i = 8;
        let mut kinds = Vec::new();
        while i < p.len() {
            let len = u32::from_be_bytes(p[i..i + 4].try_into().unwrap()) as usize;
            let kind = &p[i + 4..i + 8];
            let crc = u32::from_be_bytes(p[i + 8 + len..i + 12 + len].try_into().unwrap());
            assert_eq!(crc32fast::hash(&p[i + 4..i + 8 + len]), crc);
            kinds.push(String::from_utf8_lossy(kind).into_owned());
            i += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
    }

    #[test]
    fn adler32_matches_the_reference_value() {
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn compound_files_are_deterministic_and_readable() {
        let a = vba_project("AutoOpen");
        assert_eq!(a, vba_project("AutoOpen"));
        let mut cf = cfb::CompoundFile::open(Cursor::new(&a)).unwrap();
        let mut project = String::new();
        cf.open_stream("/PROJECT").unwrap().read_to_string(&mut project).unwrap();
        assert!(project.contains("Module=Module1"));
        assert!(cf.is_stream("/VBA/dir") && cf.is_stream("/VBA/Module1"));
        let ole = ole_package("readme.bat", b"echo hello\r\n");
        let cf = cfb::CompoundFile::open(Cursor::new(&ole)).unwrap();
        assert!(cf.is_stream("/\u{1}Ole10Native"));
    }

    #[test]
    fn ovba_literal_chunks_decode_by_hand() {
        let c = ovba_compress(b"abcdefghij");
        assert_eq!(c[0], 1);
        let header = u16::from_le_bytes([c[1], c[2]]);
        assert_eq!(header & 0xF000, 0xB000);
        assert_eq!((header & 0x0FFF) as usize + 3, c.len() - 1);
        assert_eq!(&c[3..], b"\0abcdefgh\0ij");
    }
}
