package workdir

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayoutHasOneOwner: no package but workdir spells a name of the
// working directory's layout as a string literal; the others build their
// paths from layout.go, so a file cannot be renamed in one place and
// missed in another.
func TestLayoutHasOneOwner(t *testing.T) {
	names := map[string]bool{}
	for _, n := range []string{TaskFile, FinishedFile, AuditFile, ErrorFile, StatusFile, DoneFile, WorkerFile,
		ProgressFile, RetriesFile, ReportingFile, JobConfigFile, SubmittedFile, StateFile, CountersFile,
		PlannedFile, PidFile, ServiceLogFile, LeaderFile, LostFile, JournalFile, WorkersFile,
		ImportLog, MasterLog, TrackerLog, WorkerLog, WorkerOutFile, Pending, Dispatched, Succeed, Failed} {
		names[n] = true
	}
	root := filepath.Join("..", "..")
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || path == "." || strings.HasSuffix(path, filepath.Join("internal", "workdir"))) {
			if path == root {
				return nil
			}
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if isConfFile(n) { // the installation's conf/job.cfg is no working directory file
				return false
			}
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && names[s] {
					found = append(found, path+": "+lit.Value)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s: use the workdir constant", f)
	}
}

// isConfFile tells a call of service.ConfFile, whose names are the
// installation's conf/ folder's.
func isConfFile(n ast.Node) bool {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return false
	}
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		return fn.Sel.Name == "ConfFile"
	case *ast.Ident:
		return fn.Name == "ConfFile"
	}
	return false
}
