//! The file operations the log needs, behind a small trait so the same log code
//! runs on real files and on a simulated disk in tests.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A directory of segment files. Names are plain file names.
pub trait LogDir: Send {
    /// File names in the directory.
    fn list(&self) -> io::Result<Vec<String>>;
    /// The whole content of a file.
    fn read(&self, name: &str) -> io::Result<Vec<u8>>;
    /// `len` bytes at `offset`.
    fn read_at(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>>;
    /// Creates an empty file and makes its directory entry durable.
    fn create(&mut self, name: &str) -> io::Result<()>;
    /// Appends bytes (not yet durable).
    fn append(&mut self, name: &str, bytes: &[u8]) -> io::Result<()>;
    /// Makes everything appended to the file durable.
    fn sync(&mut self, name: &str) -> io::Result<()>;
    /// Cuts a file to `len` bytes, durably.
    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()>;
    /// Removes a file, durably.
    fn remove(&mut self, name: &str) -> io::Result<()>;
}

/// [`LogDir`] over a real directory. Keeps the append handles open.
pub struct FsLogDir {
    dir: PathBuf,
    handles: HashMap<String, File>,
}

impl FsLogDir {
    /// Opens (creating if needed) a directory.
    pub fn open(dir: &Path) -> io::Result<FsLogDir> {
        std::fs::create_dir_all(dir)?;
        Ok(FsLogDir { dir: dir.to_path_buf(), handles: HashMap::new() })
    }

    fn handle(&mut self, name: &str) -> io::Result<&mut File> {
        if !self.handles.contains_key(name) {
            let f = OpenOptions::new().append(true).open(self.dir.join(name))?;
            self.handles.insert(name.to_string(), f);
        }
        Ok(self.handles.get_mut(name).expect("inserted above"))
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }
}

impl LogDir for FsLogDir {
    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        Ok(names)
    }

    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.dir.join(name))
    }

    fn read_at(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut f = File::open(self.dir.join(name))?;
        f.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0u8; len];
        f.read_exact(&mut buf)?;
        Ok(buf)
    }

    fn create(&mut self, name: &str) -> io::Result<()> {
        let f = OpenOptions::new().append(true).create_new(true).open(self.dir.join(name))?;
        f.sync_all()?;
        self.handles.insert(name.to_string(), f);
        self.sync_dir()
    }

    fn append(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.handle(name)?.write_all(bytes)
    }

    fn sync(&mut self, name: &str) -> io::Result<()> {
        self.handle(name)?.sync_data()
    }

    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()> {
        self.handles.remove(name);
        let f = OpenOptions::new().write(true).open(self.dir.join(name))?;
        f.set_len(len)?;
        f.sync_all()
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        self.handles.remove(name);
        std::fs::remove_file(self.dir.join(name))?;
        self.sync_dir()
    }
}
