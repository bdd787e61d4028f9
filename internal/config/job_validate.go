package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
)

const (
	minPartSize = 100 * KiB
	maxPartSize = 5 * GiB
)

var (
	jobNameRE    = regexp.MustCompile(`^[a-zA-Z0-9_-]{4,128}$`)
	winAbsRE     = regexp.MustCompile(`^[A-Za-z]:[/\\]`)
	tokenRE      = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	ossClasses   = []string{"Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"}
	tunnelTypes  = []string{"default", "back-to-source", "data-replication", "data-migration"}
	credentialed = []string{"qiniu", "bos", "ks3", "youpai", "azure"}
)

// checker collects the diagnostics of one Validate call.
type checker struct {
	reg   *registry
	v     reflect.Value // pointer to the struct being checked
	file  string
	lines map[string]int
	diags Diagnostics
}

func (c *checker) add(sev Severity, key, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{File: c.file, Line: c.lines[key], Key: key,
		Severity: sev, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) errorf(key, format string, args ...any) { c.add(Error, key, format, args...) }
func (c *checker) warnf(key, format string, args ...any)  { c.add(Warning, key, format, args...) }

// q quotes the current value of key for a message, masking secrets.
func (c *checker) q(key string) string {
	k, _ := c.reg.lookup(key)
	return shown(k, formatValue(c.reg.fieldOf(c.v, k), k))
}

// generic applies the rules stated in the key table: allowed enum values
// and numeric ranges.
func (c *checker) generic() {
	for _, k := range c.reg.keys {
		f := c.reg.fieldOf(c.v, k)
		switch {
		case k.Kind == KindEnum && !slices.Contains(k.Enum, f.String()):
			if k.Name == "srcType" && f.String() == "baidu" {
				c.warnf(k.Name, `srcType "baidu" is read as "bos" (write srcType=bos)`)
				continue
			}
			msg := fmt.Sprintf("%s %s is not allowed (use one of: %s)", k.Name, c.q(k.Name), strings.Join(k.Enum, ", "))
			if s := suggest(f.String(), k.Enum); s != "" {
				msg = fmt.Sprintf("%s %s is not allowed (did you mean %q? allowed: %s)", k.Name, c.q(k.Name), s, strings.Join(k.Enum, ", "))
			}
			c.errorf(k.Name, "%s", msg)
		case k.Bounded:
			if n := numberOf(f, k); n < k.Min || n > k.Max {
				c.errorf(k.Name, "%s %s is out of range (%s)", k.Name, c.q(k.Name), rangeText(k))
			}
		}
	}
}

func rangeText(k Key) string {
	lo, hi := fmt.Sprint(k.Min), fmt.Sprint(k.Max)
	if k.Kind == KindSize {
		lo, hi = FormatSize(k.Min), FormatSize(k.Max)
	}
	if k.Max == maxInt64Key || k.Max == int64(^uint32(0)>>1) {
		return "use at least " + lo
	}
	return "use " + lo + " to " + hi
}

// unused warns about keys set to a non-default value that the chosen
// srcType or destType ignores.
func (c *checker) unused(srcType, destType string) {
	def := reflect.New(c.v.Elem().Type())
	c.reg.setDefaults(def)
	for _, k := range c.reg.keys {
		if formatValue(c.reg.fieldOf(c.v, k), k) == formatValue(c.reg.fieldOf(def, k), k) {
			continue
		}
		if len(k.Sources) > 0 && slices.Contains(SourceTypes, srcType) && !slices.Contains(k.Sources, srcType) {
			c.warnf(k.Name, "%s only applies to srcType %s and is ignored for srcType=%s (remove it)",
				k.Name, strings.Join(k.Sources, ", "), srcType)
		}
		if len(k.Dests) > 0 && slices.Contains(DestTypes, destType) && !slices.Contains(k.Dests, destType) {
			c.warnf(k.Name, "%s only applies to destType %s and is ignored for destType=%s (remove it)",
				k.Name, strings.Join(k.Dests, ", "), destType)
		}
	}
}

// Validate checks j against ossimport's rules and ours and returns every
// problem found. It does not modify j, so it can be used on a Job built in
// code; diagnostics then have no file or line.
func (j *Job) Validate() Diagnostics {
	c := &checker{reg: jobRegistry(), v: reflect.ValueOf(j), file: j.file, lines: j.lines}
	c.generic()
	c.unused(j.srcKind(), j.DestType)
	if !jobNameRE.MatchString(j.JobName) {
		c.errorf("jobName", "jobName %s must be 4 to 128 letters, digits, '_' or '-' (e.g. local_test)", c.q("jobName"))
	}
	if j.Incremental && j.IncrementalInterval < 900*time.Second {
		c.warnf("incrementalModeInterval", "incrementalModeInterval %s is under ossimport's minimum of 900 seconds: accepted for trying a setup, but every round lists the whole source; use 3600 or more in production", c.q("incrementalModeInterval"))
	} else if j.Incremental && j.IncrementalInterval < time.Hour {
		c.warnf("incrementalModeInterval", "incrementalModeInterval %s is under 3600 seconds; frequent rescans mostly waste list requests", c.q("incrementalModeInterval"))
	}
	if j.JobType == "audit" && j.SkipExistFile {
		c.warnf("isSkipExistFile", "isSkipExistFile has no effect when jobType=audit")
	}
	j.checkSource(c)
	j.checkDest(c)
	j.checkClouds(c)
	j.checkUpload(c)
	j.checkExpress(c)
	j.checkFilters(c)
	return c.diags
}

// srcKind returns srcType with the "baidu" alias resolved.
func (j *Job) srcKind() string {
	if j.SrcType == "baidu" {
		return "bos"
	}
	return j.SrcType
}

// isEndpointKey reports whether key holds a URL-style endpoint for j.
func (j *Job) isEndpointKey(key string) bool {
	switch key {
	case "srcDomain":
		return j.srcDomainIsURL()
	case "destDomain":
		return j.DestType != "local"
	case "cdnDomain":
		return true
	}
	return false
}

// srcDomainIsURL reports whether srcDomain is an endpoint URL for this
// srcType (cos takes a region and azure an endpoint suffix instead).
func (j *Job) srcDomainIsURL() bool {
	return slices.Contains([]string{"oss", "s3", "bos", "ks3", "qiniu", "youpai"}, j.srcKind())
}

// ValidJobName reports whether name is a valid jobName: 4 to 128
// letters, digits, '_' or '-'.
func ValidJobName(name string) bool { return jobNameRE.MatchString(name) }
