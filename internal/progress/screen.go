package progress

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// ANSI sequences a Screen uses.
const (
	cursorHome  = "\x1b[H"
	clearScreen = "\x1b[2J"
	clearLine   = "\x1b[K"
	clearBelow  = "\x1b[J"
)

// Screen redraws a block of text in place on a terminal, as watch(1)
// does: the first Draw clears the screen, each later one overwrites the
// lines from the top, clearing what the previous block left.
type Screen struct {
	w     io.Writer
	drawn bool
	// Height, when positive, is the terminal's height: a longer text is
	// cut to fit, so that it never scrolls.
	Height int
}

// NewScreen returns a screen drawing on w.
func NewScreen(w io.Writer) *Screen { return &Screen{w: w} }

// Draw replaces what is on the screen with text.
func (s *Screen) Draw(text string) error {
	var b strings.Builder
	if !s.drawn {
		b.WriteString(clearScreen)
	}
	b.WriteString(cursorHome)
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if s.Height > 1 && len(lines) > s.Height-1 {
		cut := len(lines) - (s.Height - 2)
		lines = append(lines[:s.Height-2], fmt.Sprintf("... %d more lines", cut))
	}
	for _, line := range lines {
		b.WriteString(line)
		b.WriteString(clearLine)
		b.WriteString("\n")
	}
	b.WriteString(clearBelow)
	s.drawn = true
	_, err := io.WriteString(s.w, b.String())
	return err
}

// TerminalHeight is the height of the terminal w is open on, or 0.
func TerminalHeight(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	_, h, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return h
}
