package testenv

import (
	"context"
	"testing"
)

const chromiumPath = "/usr/bin/chromium"

// ChromiumPath returns the path of Debian's chromium (with chromium-driver
// installed beside it as /usr/bin/chromedriver), installing both with
// scripts/testenv/install-chromium.sh if needed. If that is impossible the
// test is skipped, or fails if CI is set.
//
// Run it headless as the machine notes advise: --headless --no-sandbox
// --disable-gpu --no-first-run --disable-background-networking
// --disable-component-update --disable-sync and a fresh --user-data-dir.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	present := chromiumPath
	if !isExecutable("/usr/bin/chromedriver") {
		present = "" // run the script: it installs whatever is missing
	}
	p, err := ensureInstalled(context.Background(), "chromium", present, "install-chromium.sh")
	if err != nil {
		skipOrFatal(t, "chromium", err)
	}
	return p
}
