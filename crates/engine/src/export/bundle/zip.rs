//! A minimal ZIP writer and reader for *stored* (uncompressed) archives, written from
//! PKWARE's APPNOTE.TXT (sections 4.3 and 4.4).
//!
//! The writer lays every entry out as a local file header followed by its bytes, then the
//! central directory and the end-of-central-directory record. Compression method 0
//! (stored), general-purpose flag bit 11 (names are UTF-8), a fixed modification time
//! (1980-01-01 00:00, so the same files always give the same bytes), Unix permissions
//! (`rw-r--r--`, folders `rwxr-xr-x`), no ZIP64: an entry or the archive must stay under
//! 4 GiB and 65,535 entries, far above any model squeeze runs.
//!
//! The reader takes any single-part archive whose entries are stored, whoever wrote it
//! (data descriptors and extra fields are fine), checks every CRC-32, and refuses with one
//! line what it cannot read: compressed, encrypted, ZIP64, split or cut-short archives,
//! and files that are not zips at all.

use crate::{Error, Result};

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END_LOCATOR: u32 = 0x0706_4b50;
const LOCAL_HEADER_LEN: usize = 30;
const CENTRAL_HEADER_LEN: usize = 46;
const END_LEN: usize = 22;

/// Flag bit 0: the entry is encrypted.
const FLAG_ENCRYPTED: u16 = 1;
/// Flag bit 11: the name (and comment) are UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
/// Compression method 0: stored.
const STORED: u16 = 0;
/// MS-DOS date of 1980-01-01 (day 1, month 1, year 1980 + 0); time 00:00:00 is 0.
const DOS_DATE_1980: u16 = (1 << 5) | 1;
/// "Version made by": upper byte 3 = Unix (so the external attributes are its mode
/// bits), lower byte 20 = APPNOTE 2.0.
const MADE_BY_UNIX: u16 = (3 << 8) | 20;
/// Version needed to extract a stored file (1.0) and a folder (2.0).
const NEEDED_FILE: u16 = 10;
const NEEDED_FOLDER: u16 = 20;
/// `rw-r--r--` regular file, and `rwxr-xr-x` folder with the MS-DOS folder bit.
const ATTR_FILE: u32 = 0o100_644 << 16;
const ATTR_FOLDER: u32 = (0o040_755 << 16) | 0x10;

/// What the reader says about an archive whose entries are compressed.
pub const COMPRESSED: &str = "this zip is compressed; unzip it and pick its files instead";

/// One file of an archive, its bytes borrowed from the archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Its path inside the archive, `/`-separated (e.g. `squeeze-student-f32/config.json`).
    pub name: String,
    /// Its contents.
    pub data: &'a [u8],
}

fn too_big(what: &str) -> Error {
    Error::Bundle(format!(
        "{what} is over the 4 GiB a zip without ZIP64 can hold"
    ))
}

/// A stored zip of `entries` (path, contents) in that order. A path ending in `/` is a
/// folder entry and must have no contents.
pub fn write(entries: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    let count = u16::try_from(entries.len())
        .map_err(|_| Error::Bundle("a zip without ZIP64 holds at most 65,535 files".into()))?;
    let capacity: usize = entries
        .iter()
        .map(|(n, d)| LOCAL_HEADER_LEN + CENTRAL_HEADER_LEN + 2 * n.len() + d.len())
        .sum::<usize>()
        + END_LEN;
    let mut out = Vec::with_capacity(capacity);
    let mut central = Vec::new();
    for (name, data) in entries {
        let folder = name.ends_with('/');
        if folder && !data.is_empty() {
            return Err(Error::Bundle(format!(
                "zip: folder entry `{name}` cannot have contents"
            )));
        }
        let name_len = u16::try_from(name.len())
            .map_err(|_| Error::Bundle(format!("zip: name too long: {name}")))?;
        let size = u32::try_from(data.len()).map_err(|_| too_big(name))?;
        let offset = u32::try_from(out.len()).map_err(|_| too_big("the zip"))?;
        let crc = crc32fast::hash(data);
        let needed = if folder { NEEDED_FOLDER } else { NEEDED_FILE };

        // Local file header (APPNOTE 4.3.7).
        put32(&mut out, LOCAL_HEADER);
        put16(&mut out, needed);
        put16(&mut out, FLAG_UTF8);
        put16(&mut out, STORED);
        put16(&mut out, 0); // modification time
        put16(&mut out, DOS_DATE_1980);
        put32(&mut out, crc);
        put32(&mut out, size); // compressed size
        put32(&mut out, size); // uncompressed size
        put16(&mut out, name_len);
        put16(&mut out, 0); // extra field length
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        // Central directory header (APPNOTE 4.3.12).
        put32(&mut central, CENTRAL_HEADER);
        put16(&mut central, MADE_BY_UNIX);
        put16(&mut central, needed);
        put16(&mut central, FLAG_UTF8);
        put16(&mut central, STORED);
        put16(&mut central, 0);
        put16(&mut central, DOS_DATE_1980);
        put32(&mut central, crc);
        put32(&mut central, size);
        put32(&mut central, size);
        put16(&mut central, name_len);
        put16(&mut central, 0); // extra field length
        put16(&mut central, 0); // comment length
        put16(&mut central, 0); // disk number start
        put16(&mut central, 0); // internal attributes
        put32(&mut central, if folder { ATTR_FOLDER } else { ATTR_FILE });
        put32(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let central_offset = u32::try_from(out.len()).map_err(|_| too_big("the zip"))?;
    let central_len = u32::try_from(central.len()).map_err(|_| too_big("the zip"))?;
    out.extend_from_slice(&central);

    // End of central directory record (APPNOTE 4.3.16).
    put32(&mut out, END_OF_CENTRAL_DIRECTORY);
    put16(&mut out, 0); // this disk
    put16(&mut out, 0); // disk where the central directory starts
    put16(&mut out, count); // entries on this disk
    put16(&mut out, count); // entries in all
    put32(&mut out, central_len);
    put32(&mut out, central_offset);
    put16(&mut out, 0); // comment length
    Ok(out)
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Little-endian reads at an offset, `None` past the end.
fn get16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(slice(b, at, 2)?.try_into().ok()?))
}

fn get32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(slice(b, at, 4)?.try_into().ok()?))
}

/// `len` bytes from `at`, `None` past the end (or past `usize`, on 32-bit wasm).
fn slice(b: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    b.get(at..at.checked_add(len)?)
}

fn cut_short() -> Error {
    Error::Bundle("this zip is cut short or damaged; download it again".into())
}

fn zip64() -> Error {
    Error::Bundle(
        "this zip uses ZIP64 (over 4 GiB or 65,535 files), which squeeze does not read; unzip it and pick its files instead".into(),
    )
}

/// Where the end-of-central-directory record starts: the last signature from which the
/// record, with its comment, runs exactly to the end of the file.
fn find_end(bytes: &[u8]) -> Option<usize> {
    let last = bytes.len().checked_sub(END_LEN)?;
    let first = last.saturating_sub(usize::from(u16::MAX));
    (first..=last).rev().find(|&at| {
        get32(bytes, at) == Some(END_OF_CENTRAL_DIRECTORY)
            && get16(bytes, at + 20).map(usize::from) == Some(bytes.len() - at - END_LEN)
    })
}

/// The files of a stored zip, in central-directory order (folder entries left out), each
/// checked against its CRC-32.
pub fn read(bytes: &[u8]) -> Result<Vec<Entry<'_>>> {
    let Some(end) = find_end(bytes) else {
        return Err(if bytes.starts_with(&LOCAL_HEADER.to_le_bytes()) {
            cut_short()
        } else {
            Error::Bundle("not a zip file".into())
        });
    };
    let field = |at| get16(bytes, end + at).ok_or_else(cut_short);
    let (disk, central_disk) = (field(4)?, field(6)?);
    let (on_disk, total) = (field(8)?, field(10)?);
    let central_len = get32(bytes, end + 12).ok_or_else(cut_short)?;
    let central_offset = get32(bytes, end + 16).ok_or_else(cut_short)?;
    if total == u16::MAX
        || central_len == u32::MAX
        || central_offset == u32::MAX
        || (end >= 20 && get32(bytes, end - 20) == Some(ZIP64_END_LOCATOR))
    {
        return Err(zip64());
    }
    if disk != 0 || central_disk != 0 || on_disk != total {
        return Err(Error::Bundle(
            "this zip is split across several files; join them (or unzip them) first".into(),
        ));
    }
    let (start, len) = (central_offset as usize, central_len as usize);
    if start.checked_add(len).is_none_or(|stop| stop > end) {
        return Err(cut_short());
    }
    let mut entries = Vec::with_capacity(usize::from(total));
    let mut at = start;
    for _ in 0..total {
        let (entry, next) = central_entry(bytes, at)?;
        if let Some(entry) = entry {
            entries.push(entry);
        }
        at = next;
    }
    Ok(entries)
}

/// The central-directory header at `at`: its entry (`None` for a folder) and where the
/// next header starts.
fn central_entry(bytes: &[u8], at: usize) -> Result<(Option<Entry<'_>>, usize)> {
    let u16_at = |off| get16(bytes, at + off).ok_or_else(cut_short);
    let u32_at = |off| get32(bytes, at + off).ok_or_else(cut_short);
    if u32_at(0)? != CENTRAL_HEADER {
        return Err(cut_short());
    }
    let (flags, method) = (u16_at(8)?, u16_at(10)?);
    let crc = u32_at(16)?;
    let (packed, size) = (u32_at(20)?, u32_at(24)?);
    let name_len = usize::from(u16_at(28)?);
    let skip = name_len + usize::from(u16_at(30)?) + usize::from(u16_at(32)?);
    let local = u32_at(42)?;
    let raw_name = slice(bytes, at + CENTRAL_HEADER_LEN, name_len).ok_or_else(cut_short)?;
    let name = String::from_utf8_lossy(raw_name).into_owned();
    let next = at + CENTRAL_HEADER_LEN + skip;
    if flags & FLAG_ENCRYPTED != 0 {
        return Err(Error::Bundle(format!(
            "this zip is encrypted ({name}); unzip it with its password and pick its files instead"
        )));
    }
    if packed == u32::MAX || size == u32::MAX || local == u32::MAX {
        return Err(zip64());
    }
    if method != STORED || packed != size {
        return Err(Error::Bundle(COMPRESSED.into()));
    }
    if name.ends_with('/') && size == 0 {
        return Ok((None, next));
    }
    // The local header repeats the name and may carry its own extra field.
    let local = local as usize;
    if get32(bytes, local) != Some(LOCAL_HEADER) {
        return Err(cut_short());
    }
    let local_skip = usize::from(get16(bytes, local + 26).ok_or_else(cut_short)?)
        + usize::from(get16(bytes, local + 28).ok_or_else(cut_short)?);
    let data = local
        .checked_add(LOCAL_HEADER_LEN + local_skip)
        .and_then(|data_at| slice(bytes, data_at, size as usize))
        .ok_or_else(cut_short)?;
    if crc32fast::hash(data) != crc {
        return Err(Error::Bundle(format!(
            "this zip is damaged: {name} does not match its checksum; download it again"
        )));
    }
    Ok((Some(Entry { name, data }), next))
}
