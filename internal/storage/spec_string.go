package storage

import (
	"fmt"
	"log/slog"
)

// String describes the spec for messages without its secrets: the
// secret key and session token never appear, and the access key only by
// its first four characters. fmt's %v and %+v use it, so a spec printed
// by mistake does not leak them.
func (s Spec) String() string {
	return fmt.Sprintf("{Type:%s Endpoint:%s Region:%s Bucket:%s AccessKey:%s SecretKey:%s SessionToken:%s PathStyle:%t CName:%t}",
		s.Type, s.Endpoint, s.Region, s.Bucket, maskID(s.AccessKey), mask(s.SecretKey), mask(s.SessionToken), s.PathStyle, s.CName)
}

// LogValue implements slog.LogValuer with the same masking.
func (s Spec) LogValue() slog.Value { return slog.StringValue(s.String()) }

func mask(v string) string {
	if v == "" {
		return ""
	}
	return "****"
}

func maskID(v string) string {
	if len(v) <= 4 {
		return mask(v)
	}
	return v[:4] + "****"
}
