//! A cursor over a model file's bytes (the scorer's and the suffix
//! model's): every read is bounds-checked, so a truncated or corrupt file is
//! an error, never a panic.

pub(crate) struct Reader<'a> {
    pub(crate) data: &'a [u8],
    /// Bytes read so far.
    pub(crate) at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, at: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.data.len()).ok_or("file truncated")?;
        let s = &self.data[self.at..end];
        self.at = end;
        Ok(s)
    }

    pub(crate) fn f32(&mut self) -> Result<f32, String> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An unsigned LEB128 varint of at most five bytes.
    pub(crate) fn leb128(&mut self) -> Result<usize, String> {
        let mut v = 0usize;
        for shift in (0..35).step_by(7) {
            let b = self.take(1)?[0];
            v |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("bad varint".into())
    }
}

/// Appends `v` as an unsigned LEB128 varint, the form [`Reader::leb128`]
/// reads (the model files' gaps between kept buckets).
pub(crate) fn push_leb128(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
