//go:build unix

package badgerstore

import (
	"errors"
	"os"
	"syscall"
)

// dirLock is an exclusive flock on the store's lock file, held from Open to
// Close. The kernel drops it when the process dies, so a crash leaves no
// stale lock behind.
type dirLock struct{ f *os.File }

func lockDir(path string) (*dirLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return &dirLock{f}, nil
}

func (l *dirLock) release() {
	flock(l.f, syscall.LOCK_UN)
	l.f.Close()
}

// dirLocked reports whether someone holds badger's own lock on dir, which
// badger takes with flock on the directory itself.
func dirLocked(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	flock(f, syscall.LOCK_UN)
	return false
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
