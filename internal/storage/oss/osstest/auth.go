package osstest

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
)

// maxClockSkew is how far a request's time may be from the server's.
const maxClockSkew = 15 * time.Minute

// v1SubResources are the query parameters, beyond the ones the V1 signer
// always signs, that OSS treats as sub-resources in a V1 signature.
var v1SubResources = []string{
	"accessPoint", "accessPointPolicy", "bucketArchiveDirectRead", "cleanRestoredObject", "cname", "comp",
	"cors", "encryption", "httpsConfig", "inventory", "inventoryId", "legalHold", "lifecycle", "logging",
	"metaQuery", "objectWorm", "overwriteConfig", "policy", "policyStatus", "publicAccessBlock", "quota",
	"redundancyTransition", "referer", "regions", "replication", "replicationLocation", "replicationProgress",
	"requestPayment", "resourceGroup", "retention", "rtc", "seal", "style", "styleName", "transferAcceleration",
	"website", "worm", "wormExtend", "wormId",
}

// authenticate checks the request's Authorization header: an OSS V1
// ("OSS ak:signature") or V4 ("OSS4-HMAC-SHA256 Credential=...")
// signature made with the server's key pair. The expected signature is
// computed by the SDK's signer on a copy of the request as received.
func (s *Server) authenticate(rq *request) *ossError {
	auth := rq.r.Header.Get("Authorization")
	switch {
	case auth == "":
		return errorf(http.StatusForbidden, "AccessDenied", "You have no right to access this object because of bucket acl.")
	case strings.HasPrefix(auth, "OSS4-HMAC-SHA256 "):
		return s.verifyV4(rq, auth)
	case strings.HasPrefix(auth, "OSS "):
		return s.verifyV1(rq, auth)
	}
	return errorf(http.StatusBadRequest, "InvalidArgument", "Authorization header is invalid.")
}

func (s *Server) verifyV1(rq *request, auth string) *ossError {
	ak, _, ok := strings.Cut(strings.TrimPrefix(auth, "OSS "), ":")
	if !ok {
		return errorf(http.StatusBadRequest, "InvalidArgument", "Authorization header is invalid.")
	}
	if ak != s.AccessKey {
		return errInvalidAccessKeyID(ak)
	}
	date, err := http.ParseTime(rq.r.Header.Get("Date"))
	if err != nil {
		return errorf(http.StatusForbidden, "AccessDenied", "OSS authentication requires a valid Date.")
	}
	if e := checkSkew(date); e != nil {
		return e
	}
	sc := s.signingContext(rq, ak)
	sc.Time = date
	sc.SubResource = v1SubResources
	if err := (&signer.SignerV1{}).Sign(context.Background(), sc); err != nil {
		return errorf(http.StatusInternalServerError, "InternalError", "sign: %v", err)
	}
	if sc.Request.Header.Get("Authorization") != auth {
		return errSignature(sc.StringToSign)
	}
	return nil
}

func (s *Server) verifyV4(rq *request, auth string) *ossError {
	fields := map[string]string{}
	for _, f := range strings.Split(strings.TrimPrefix(auth, "OSS4-HMAC-SHA256 "), ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[name] = value
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aliyun_v4_request" || fields["Signature"] == "" {
		return errorf(http.StatusBadRequest, "InvalidArgument", "Authorization header is invalid.")
	}
	ak, day, region, product := scope[0], scope[1], scope[2], scope[3]
	if ak != s.AccessKey {
		return errInvalidAccessKeyID(ak)
	}
	when, err := time.Parse("20060102T150405Z", rq.r.Header.Get("X-Oss-Date"))
	if err != nil || when.Format("20060102") != day {
		return errorf(http.StatusForbidden, "AccessDenied", "OSS V4 authentication requires a valid x-oss-date matching the credential scope.")
	}
	if e := checkSkew(when); e != nil {
		return e
	}
	if region != s.Region || product != "oss" {
		return errorf(http.StatusForbidden, "SignatureDoesNotMatch",
			"Invalid signing region or product in Authorization header: %s/%s, expected %s/oss.", region, product, s.Region)
	}
	if rq.r.Header.Get("X-Oss-Content-Sha256") == "" {
		return errorf(http.StatusBadRequest, "InvalidArgument", "x-oss-content-sha256 header is required.")
	}
	sc := s.signingContext(rq, ak)
	sc.Time = when
	sc.Region, sc.Product = &region, &product
	if extra := fields["AdditionalHeaders"]; extra != "" {
		sc.AdditionalHeaders = strings.Split(extra, ";")
		sc.Request.Header.Set("Host", rq.r.Host)
	}
	if err := (&signer.SignerV4{}).Sign(context.Background(), sc); err != nil {
		return errorf(http.StatusInternalServerError, "InternalError", "sign: %v", err)
	}
	if sc.Request.Header.Get("Authorization") != auth {
		return errSignature(sc.StringToSign)
	}
	return nil
}

// signingContext describes the request as the client signed it: bucket
// and key decoded, headers and query exactly as received.
func (s *Server) signingContext(rq *request, ak string) *signer.SigningContext {
	sc := &signer.SigningContext{
		Request:     rq.r.Clone(context.Background()),
		Credentials: &credentials.Credentials{AccessKeyID: ak, AccessKeySecret: s.SecretKey},
	}
	if rq.bucket != "" {
		sc.Bucket = &rq.bucket
	}
	if rq.key != "" {
		sc.Key = &rq.key
	}
	return sc
}

func checkSkew(t time.Time) *ossError {
	if d := time.Since(t); d > maxClockSkew || d < -maxClockSkew {
		return errorf(http.StatusForbidden, "RequestTimeTooSkewed",
			"The difference between the request time and the current time is too large.")
	}
	return nil
}

func errInvalidAccessKeyID(ak string) *ossError {
	return errorf(http.StatusForbidden, "InvalidAccessKeyId",
		"The OSS Access Key Id you provided does not exist in our records.").with("OSSAccessKeyId", ak)
}

func errSignature(stringToSign string) *ossError {
	return errorf(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.").
		with("StringToSign", stringToSign)
}
