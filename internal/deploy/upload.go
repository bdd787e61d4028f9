package deploy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// PermissionError is returned when the login user may not write to a
// remote directory.
type PermissionError struct {
	Addr string
	Dir  string
	User string
	Err  error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("permission denied writing to %s on %s as user %s: check workingDir in conf/sys.properties "+
		"and that workerUserName may create and write it", e.Dir, e.Addr, e.User)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// MkdirAll creates dir and its parents on the host.
func (c *Client) MkdirAll(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := c.sftpClient()
	if err != nil {
		return err
	}
	if err := s.MkdirAll(dir); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return &PermissionError{Addr: c.addr, Dir: dir, User: c.user, Err: err}
		}
		return fmt.Errorf("create directory %s on %s: %w", dir, c.addr, err)
	}
	return nil
}

// RemoteSHA256 returns the hex SHA-256 of a remote file, computed on the
// host with sha256sum.
func (c *Client) RemoteSHA256(ctx context.Context, remotePath string) (string, error) {
	out, _, err := c.Run(ctx, "sha256sum -b -- "+shellQuote(remotePath), nil)
	if err != nil {
		return "", err
	}
	sum, _, _ := strings.Cut(strings.TrimSpace(out), " ")
	sum = strings.TrimPrefix(sum, `\`) // sha256sum escapes odd file names
	if len(sum) != 64 {
		return "", fmt.Errorf("sha256sum on %s printed %q", c.addr, out)
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return "", fmt.Errorf("sha256sum on %s printed %q", c.addr, out)
	}
	return strings.ToLower(sum), nil
}

func localSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Upload copies localPath to remotePath over SFTP, creating the parent
// directories, and sets mode. When the remote file already has the same
// SHA-256 it is left alone (only its mode is set) and skipped is true. The
// file is written under a temporary name and renamed into place, so a
// reader never sees a partial file.
func (c *Client) Upload(ctx context.Context, localPath, remotePath string, mode os.FileMode) (skipped bool, err error) {
	sum, err := localSHA256(localPath)
	if err != nil {
		return false, fmt.Errorf("upload %s: %w", localPath, err)
	}
	s, err := c.sftpClient()
	if err != nil {
		return false, err
	}
	if st, err := s.Stat(remotePath); err == nil && st.Mode().IsRegular() {
		// A failing sha256sum (missing tool, odd shell) just means upload.
		if rsum, err := c.RemoteSHA256(ctx, remotePath); err == nil && rsum == sum {
			if st.Mode().Perm() != mode.Perm() {
				if err := s.Chmod(remotePath, mode.Perm()); err != nil {
					return false, c.writeErr(remotePath, "chmod", err)
				}
			}
			return true, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}

	dir := path.Dir(remotePath)
	if err := c.MkdirAll(ctx, dir); err != nil {
		return false, err
	}
	src, err := os.Open(localPath)
	if err != nil {
		return false, fmt.Errorf("upload %s: %w", localPath, err)
	}
	defer src.Close()

	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, "."+path.Base(remotePath)+".tmp-"+hex.EncodeToString(rnd[:]))
	dst, err := s.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_TRUNC)
	if err != nil {
		return false, c.writeErr(dir, "create "+tmp, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = dst.Close()
			_ = s.Remove(tmp)
		}
	}()
	if _, err := dst.ReadFrom(ctxReader{ctx, src}); err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, c.writeErr(dir, "write "+tmp, err)
	}
	if err := dst.Close(); err != nil {
		return false, c.writeErr(dir, "close "+tmp, err)
	}
	if err := s.Chmod(tmp, mode.Perm()); err != nil {
		return false, c.writeErr(dir, "chmod "+tmp, err)
	}
	if err := s.PosixRename(tmp, remotePath); err != nil {
		// Servers without posix-rename@openssh.com: plain rename does not
		// replace, so remove the old file first.
		_ = s.Remove(remotePath)
		if err2 := s.Rename(tmp, remotePath); err2 != nil {
			return false, c.writeErr(dir, "rename "+tmp+" to "+remotePath, err2)
		}
	}
	ok = true
	return false, nil
}

func (c *Client) writeErr(dir, op string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return &PermissionError{Addr: c.addr, Dir: dir, User: c.user, Err: err}
	}
	return fmt.Errorf("%s on %s: %w", op, c.addr, err)
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
