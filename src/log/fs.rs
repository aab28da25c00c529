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
    /// The head file's bytes (see [`super::head`]), `None` when there is none.
    /// The default keeps no head file: a storage without one cannot tell a
    /// log cut short at a record boundary from a whole one.
    fn read_head(&self) -> io::Result<Option<Vec<u8>>> {
        Ok(None)
    }
    /// Replaces the whole head file atomically and durably (a crash leaves
    /// the old file or the new one).
    fn replace_head(&mut self, _bytes: &[u8]) -> io::Result<()> {
        Ok(())
    }
    /// Overwrites `bytes` at `offset` of the existing head file in place and
    /// makes them durable (one sector: written whole or not at all).
    fn update_head(&mut self, _offset: u64, _bytes: &[u8]) -> io::Result<()> {
        Ok(())
    }
}

/// [`LogDir`] over a real directory. Keeps the append handles open.
pub struct FsLogDir {
    dir: PathBuf,
    handles: HashMap<String, File>,
    /// The head file, outside the segments' directory so that losing that
    /// directory is noticed; `None`: no head file is kept.
    head: Option<PathBuf>,
    head_handle: Option<File>,
    /// Every write is refused (a store opened read-only).
    read_only: bool,
}

fn refused() -> io::Error {
    io::Error::new(io::ErrorKind::ReadOnlyFilesystem, "the store was opened read-only")
}

/// The head file's name in the store directory.
pub const HEAD_FILE: &str = "LOG_HEAD";

impl FsLogDir {
    /// Opens (creating if needed) a directory of segments, without a head file.
    pub fn open(dir: &Path) -> io::Result<FsLogDir> {
        std::fs::create_dir_all(dir)?;
        Ok(FsLogDir {
            dir: dir.to_path_buf(),
            handles: HashMap::new(),
            head: None,
            head_handle: None,
            read_only: false,
        })
    }

    /// The log of the store in `store`: segments in `<store>/log`, the head
    /// file at `<store>/LOG_HEAD`.
    pub fn for_store(store: &Path) -> io::Result<FsLogDir> {
        let mut d = FsLogDir::open(&store.join("log"))?;
        d.head = Some(store.join(HEAD_FILE));
        Ok(d)
    }

    /// The log of the store in `store`, read-only: nothing is created (a
    /// missing `log/` reads as empty, so the head file names what is lost)
    /// and every write fails with `ReadOnlyFilesystem`.
    pub fn for_store_read_only(store: &Path) -> FsLogDir {
        FsLogDir {
            dir: store.join("log"),
            handles: HashMap::new(),
            head: Some(store.join(HEAD_FILE)),
            head_handle: None,
            read_only: true,
        }
    }

    fn writable(&self) -> io::Result<()> {
        if self.read_only { Err(refused()) } else { Ok(()) }
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
        let entries = match std::fs::read_dir(&self.dir) {
            Err(e) if self.read_only && e.kind() == io::ErrorKind::NotFound => return Ok(names),
            other => other?,
        };
        for entry in entries {
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
        self.writable()?;
        let f = OpenOptions::new().append(true).create_new(true).open(self.dir.join(name))?;
        f.sync_all()?;
        self.handles.insert(name.to_string(), f);
        self.sync_dir()
    }

    fn append(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.writable()?;
        self.handle(name)?.write_all(bytes)
    }

    fn sync(&mut self, name: &str) -> io::Result<()> {
        self.writable()?;
        self.handle(name)?.sync_data()
    }

    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()> {
        self.writable()?;
        self.handles.remove(name);
        let f = OpenOptions::new().write(true).open(self.dir.join(name))?;
        f.set_len(len)?;
        f.sync_all()
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        self.writable()?;
        self.handles.remove(name);
        std::fs::remove_file(self.dir.join(name))?;
        self.sync_dir()
    }

    fn read_head(&self) -> io::Result<Option<Vec<u8>>> {
        let Some(path) = &self.head else { return Ok(None) };
        match std::fs::read(path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn replace_head(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writable()?;
        let Some(path) = self.head.clone() else { return Ok(()) };
        self.head_handle = None;
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        match path.parent() {
            Some(parent) => File::open(parent)?.sync_all(),
            None => Ok(()),
        }
    }

    fn update_head(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.writable()?;
        let Some(path) = &self.head else { return Ok(()) };
        if self.head_handle.is_none() {
            self.head_handle = Some(OpenOptions::new().write(true).open(path)?);
        }
        let f = self.head_handle.as_ref().expect("opened above");
        f.write_all_at(bytes, offset)?;
        // The file's length never changes after it is created: data only.
        f.sync_data()
    }
}
