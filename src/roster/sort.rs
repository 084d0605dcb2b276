//! A small external merge sort for fixed-size byte records, so that
//! preparing a roster of any size needs only a bounded amount of memory:
//! records are sorted in chunks, chunks spill to anonymous temporary files
//! (which hold hashes only, never identity numbers), and the runs are
//! merged on reading.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// Collects records and hands them back sorted (bytewise ascending).
pub(crate) struct ExternalSorter<const N: usize> {
    chunk: Vec<[u8; N]>,
    chunk_rows: usize,
    runs: Vec<File>,
    temp_dir: Option<PathBuf>,
}

impl<const N: usize> ExternalSorter<N> {
    /// A sorter that keeps at most `chunk_rows` records in memory.
    pub(crate) fn new(chunk_rows: usize, temp_dir: Option<PathBuf>) -> Self {
        ExternalSorter {
            chunk: Vec::new(),
            chunk_rows: chunk_rows.max(1),
            runs: Vec::new(),
            temp_dir,
        }
    }

    pub(crate) fn push(&mut self, rec: [u8; N]) -> io::Result<()> {
        if self.chunk.len() >= self.chunk_rows {
            self.spill()?;
        }
        self.chunk.push(rec);
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.chunk.sort_unstable();
        let file = match &self.temp_dir {
            Some(d) => tempfile::tempfile_in(d)?,
            None => tempfile::tempfile()?,
        };
        let mut w = BufWriter::with_capacity(1 << 16, file);
        for r in &self.chunk {
            w.write_all(r)?;
        }
        let mut file = w.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        self.runs.push(file);
        self.chunk.clear();
        Ok(())
    }

    /// All records, sorted.
    pub(crate) fn finish(mut self) -> io::Result<Sorted<N>> {
        if self.runs.is_empty() {
            self.chunk.sort_unstable();
            return Ok(Sorted::Memory(self.chunk.into_iter()));
        }
        if !self.chunk.is_empty() {
            self.spill()?;
        }
        let mut readers: Vec<BufReader<File>> = self
            .runs
            .into_iter()
            .map(|f| BufReader::with_capacity(1 << 16, f))
            .collect();
        let mut heap = BinaryHeap::with_capacity(readers.len());
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(rec) = read_rec(r)? {
                heap.push(Reverse((rec, i)));
            }
        }
        Ok(Sorted::Merge { readers, heap })
    }
}

fn read_rec<const N: usize>(r: &mut BufReader<File>) -> io::Result<Option<[u8; N]>> {
    let mut rec = [0u8; N];
    match r.read_exact(&mut rec) {
        Ok(()) => Ok(Some(rec)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// Sorted records, from memory or merged from spilled runs.
pub(crate) enum Sorted<const N: usize> {
    Memory(std::vec::IntoIter<[u8; N]>),
    Merge {
        readers: Vec<BufReader<File>>,
        heap: BinaryHeap<Reverse<([u8; N], usize)>>,
    },
}

impl<const N: usize> Iterator for Sorted<N> {
    type Item = io::Result<[u8; N]>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Sorted::Memory(it) => it.next().map(Ok),
            Sorted::Merge { readers, heap } => {
                let Reverse((rec, i)) = heap.pop()?;
                match read_rec(&mut readers[i]) {
                    Ok(Some(next)) => heap.push(Reverse((next, i))),
                    Ok(None) => {}
                    Err(e) => return Some(Err(e)),
                }
                Some(Ok(rec))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorts_like_std_with_any_chunk_size(
            recs in proptest::collection::vec(any::<[u8; 3]>(), 0..200),
            chunk in 1usize..50,
        ) {
            let mut s = ExternalSorter::<3>::new(chunk, None);
            for r in &recs {
                s.push(*r).unwrap();
            }
            let got: Vec<[u8; 3]> = s.finish().unwrap().map(Result::unwrap).collect();
            let mut want = recs.clone();
            want.sort();
            prop_assert_eq!(got, want);
        }
    }
}
