//go:build !unix

package badgerstore

import "os"

// dirLock holds the lock file open. Without flock, a second process is
// turned away by badger's own directory lock, reported as corrupt rather
// than ErrLocked.
type dirLock struct{ f *os.File }

func lockDir(path string) (*dirLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &dirLock{f}, nil
}

func (l *dirLock) release() { l.f.Close() }

func dirLocked(string) bool { return false }
