package stsfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func post(t *testing.T, s *Server, form url.Values, sign *awssdk.Credentials) (int, string) {
	t.Helper()
	body := form.Encode()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if sign != nil {
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), *sign, req, hex.EncodeToString(sum[:]), "sts", "us-east-2", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSignatureChecks(t *testing.T) {
	s := New()
	defer s.Close()
	web := url.Values{"Action": {AssumeRoleWithWebIdentity}, "Version": {"2011-06-15"}, "RoleArn": {"arn:aws:iam::111122223333:role/a"},
		"RoleSessionName": {"s1"}, "WebIdentityToken": {"t"}}
	if code, body := post(t, s, web, nil); code != 200 || !strings.Contains(body, "<AssumedRoleUser>") {
		t.Fatalf("web identity: %d %s", code, body)
	}
	cr := s.Issued()[0]
	chain := url.Values{"Action": {AssumeRole}, "Version": {"2011-06-15"}, "RoleArn": {"arn:aws:iam::444455556666:role/b"}, "RoleSessionName": {"s1"}}
	good := awssdk.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken}
	bad := good
	bad.SecretAccessKey = "wrong"
	tests := []struct {
		name  string
		form  url.Values
		creds *awssdk.Credentials
		code  int
		want  string
	}{
		{"signed correctly", chain, &good, 200, "assumed-role/b/s1"},
		{"wrong secret", chain, &bad, 403, "SignatureDoesNotMatch"},
		{"unsigned AssumeRole", chain, nil, 403, "MissingAuthenticationToken"},
		{"signed web identity", web, &good, 400, "must not be signed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(t, s, tt.form, tt.creds)
			if code != tt.code || !strings.Contains(body, tt.want) {
				t.Errorf("%d %s", code, body)
			}
		})
	}
	last := s.Calls()[len(s.Calls())-1]
	if !last.Signed || last.Region != "us-east-2" || last.Service != "sts" {
		t.Errorf("call record: %+v", last)
	}
}
