// Command ossimport migrates data into Alibaba Cloud OSS or any
// S3-compatible store. See the README for the workflow.
package main

import (
	"os"

	"github.com/ossimport/ossimport/internal/console"
)

func main() {
	stop := profile(os.Stderr)
	code := console.Execute(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
