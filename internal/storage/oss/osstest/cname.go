package osstest

import (
	"net"
	"net/http"
	"strings"
)

// BindDomain binds a custom domain to a bucket, as OSS's PutCname does
// once the domain's CNAME record points at the bucket: a request whose
// Host is domain (any port) addresses that bucket, and its whole path is
// the object key, so https://files.example.com/a/b.txt is object
// "a/b.txt". The signature is still computed over /bucket/key, as OSS
// checks it. A Host below the domain (mybkt.files.example.com) is
// refused: such a name has no DNS record in front of OSS.
func (s *Server) BindDomain(domain, bucketName string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[bucketName]; !ok {
		s.t.Fatalf("osstest: bind %s: no bucket %q", domain, bucketName)
	}
	if s.cnames == nil {
		s.cnames = map[string]string{}
	}
	s.cnames[strings.ToLower(domain)] = bucketName
}

// cnameTarget resolves a request to a bound domain. bound reports
// whether the Host is a bound domain; refuse is set for a Host below a
// bound domain.
func (s *Server) cnameTarget(r *http.Request) (bucket, key string, bound bool, refuse *ossError) {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.cnames[host]; ok {
		return b, strings.TrimPrefix(r.URL.Path, "/"), true, nil
	}
	for domain := range s.cnames {
		if strings.HasSuffix(host, "."+domain) {
			return "", "", false, errorf(http.StatusForbidden, "AccessDenied",
				"The host %s is not bound to any bucket; address the bucket through its bound domain %s.", host, domain)
		}
	}
	return "", "", false, nil
}

// checkToken enforces Options.SecurityToken: STS credentials are only
// valid with their token in x-oss-security-token.
func (s *Server) checkToken(rq *request) *ossError {
	if s.SecurityToken == "" {
		return nil
	}
	switch got := rq.r.Header.Get("X-Oss-Security-Token"); {
	case got == "":
		return errorf(http.StatusForbidden, "InvalidAccessKeyId", "The security token you provided is missing; temporary credentials need x-oss-security-token.")
	case got != s.SecurityToken:
		return errorf(http.StatusForbidden, "InvalidSecurityToken", "The security token you provided is invalid.")
	}
	return nil
}
