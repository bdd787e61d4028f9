package config

import "strings"

// OSSEndpoint reports whether an endpoint's host is an OSS endpoint
// (oss-<region>[-internal].aliyuncs.com, or any other *.aliyuncs.com
// host such as an accelerate endpoint).
func OSSEndpoint(endpoint string) bool {
	host := strings.ToLower(strings.TrimSuffix(endpointHost(endpoint), "."))
	return strings.HasSuffix(host, ".aliyuncs.com")
}
