"""The service's own folder for temporary files (exports before they are sent).

An export is written to a file, digested, signed, streamed and deleted. A process killed in
between (out of memory, `kill -9`, a deploy) leaves the file behind: member names, days and
positions. So temporary files go to a folder of the service's own (`ZHUCUN_EXPORT_DIR`;
by default `zhucun-exports-<uid>` in the system's temporary folder), mode 0700 and refused if
another user owns it, and what a dead process left there is removed when a process starts.

Several worker processes share the folder, and one must never remove a sibling's export in
flight. Each process writes in a subfolder of its own, `p<pid>-<random>`, and holds an
exclusive `flock` on `p<pid>-<random>.lock` beside it for as long as it lives; the kernel
lets go of it when the process ends, however it ends. At start-up a process removes every
subfolder whose lock it can take: its owner is dead. This holds across containers that share
the folder (a lock belongs to an open file, not to a pid that another namespace may reuse).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import stat
import tempfile
import threading
from pathlib import Path

PREFIX = "zhucun-export-"
_LOCK = ".lock"
_PENDING = ".lock.new"


class ScratchFolderError(Exception):
    """The folder cannot be the service's own (someone else's, a symlink, not a folder)."""


def default_folder() -> Path:
    return Path(tempfile.gettempdir()) / f"zhucun-exports-{os.getuid()}"


class ScratchFolder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._mutex = threading.Lock()
        self._pid = 0
        self._own: Path | None = None
        self._lock_fd: int | None = None  # held open for the process's life: the flock

    def prepare(self) -> list[Path]:
        """At start-up: make sure the folder is ours, and remove what dead processes left.
        Returns the subfolders removed."""
        self._check_root()
        return self._sweep()

    def new_file(self, suffix: str) -> Path:
        """An empty file (mode 0600) in this process's own subfolder."""
        fd, name = tempfile.mkstemp(prefix=PREFIX, suffix=suffix, dir=self._own_folder())
        os.close(fd)
        return Path(name)

    def _own_folder(self) -> Path:
        with self._mutex:
            if self._own is None or self._pid != os.getpid():  # a forked child makes its own
                self._check_root()
                self._pid = os.getpid()
                self._own = self._claim()
            return self._own

    def _claim(self) -> Path:
        """A new locked subfolder. The lock file is locked under a pending name and renamed
        into place, so a sweeper never sees a final lock file that is not locked, and a
        subfolder never exists without its lock file."""
        while True:
            name = f"p{os.getpid()}-{secrets.token_hex(4)}"
            pending = self.root / f".{name}{_PENDING}"
            fd = os.open(pending, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                os.rename(pending, self.root / f"{name}{_LOCK}")
            except FileNotFoundError:  # a sweeper took it between open and flock: again
                os.close(fd)
                continue
            folder = self.root / name
            folder.mkdir(mode=0o700)
            if self._lock_fd is not None:
                os.close(self._lock_fd)
            self._lock_fd = fd
            return folder

    def _check_root(self) -> None:
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.lstat(self.root)
        except OSError as exc:
            raise ScratchFolderError(f"export folder {self.root}: {exc.strerror}") from None
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise ScratchFolderError(f"export folder {self.root} is not a folder")
        if info.st_uid != os.getuid():
            raise ScratchFolderError(
                f"export folder {self.root} belongs to another user (uid {info.st_uid}): "
                "set ZHUCUN_EXPORT_DIR to a folder of the service's own"
            )
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(self.root, 0o700)

    def _sweep(self) -> list[Path]:
        removed: list[Path] = []
        for entry in sorted(self.root.iterdir()):
            if entry.name.startswith(".p") and entry.name.endswith(_PENDING):
                # A process died before its lock file got its name; it has no subfolder yet.
                fd = _lock_if_dead(entry)
                if fd is not None:
                    entry.unlink(missing_ok=True)
                    os.close(fd)
            elif entry.name.startswith("p") and entry.name.endswith(_LOCK):
                fd = _lock_if_dead(entry)
                if fd is None:
                    continue
                folder = self.root / entry.name.removesuffix(_LOCK)
                if folder.is_dir() and not folder.is_symlink():
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
                entry.unlink(missing_ok=True)
                os.close(fd)
        for entry in sorted(self.root.iterdir()):
            # A subfolder without its lock file: a sweeper died between the two removals.
            lock = self.root / f"{entry.name}{_LOCK}"
            if entry.name.startswith("p") and entry.is_dir() and not lock.exists():
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
        return removed


def _lock_if_dead(lock: Path) -> int | None:
    """An open descriptor holding `lock` if no live process held it (its owner is dead);
    None while its owner lives (this process included)."""
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
