package stsfake

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Actions.
const (
	AssumeRoleWithWebIdentity = "AssumeRoleWithWebIdentity"
	AssumeRole                = "AssumeRole"
	// GetCallerIdentity lets a real AWS CLI or SDK prove that credentials
	// keyless handed over work: it must be signed with keys the fake issued.
	GetCallerIdentity = "GetCallerIdentity"
)

// Reply is how the fake answers one call. The zero Reply is success.
type Reply struct {
	Status  int
	Code    string
	Message string
}

// Errors as STS sends them (status, code, a typical message).
var (
	InvalidIdentityToken = Reply{400, "InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://issuer.example"}
	AccessDenied         = Reply{403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"}
	AccessDeniedChained  = Reply{403, "AccessDenied", "User: arn:aws:sts::111122223333:assumed-role/first/s is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/second"}
	IDPRejectedClaim     = Reply{403, "IDPRejectedClaim", "Incorrect token audience"}
	IDPCommunication     = Reply{400, "IDPCommunicationError", "Couldn't retrieve verification key from your identity provider"}
	ExpiredToken         = Reply{400, "ExpiredTokenException", "Token expired: current date/time 1763800000 must be before the expiration date/time1763799000"}
	RegionDisabled       = Reply{403, "RegionDisabledException", "STS is not activated in this region for account:111122223333. Your account administrator can activate STS in this region using the IAM Console."}
	Throttling           = Reply{400, "Throttling", "Rate exceeded"}
	MalformedPolicy      = Reply{400, "MalformedPolicyDocument", "Syntax errors in policy."}
	PackedPolicyTooLarge = Reply{400, "PackedPolicyTooLarge", "Packed policy consumes 113% of allotted space, please use smaller policy for this operation."}
	DurationTooLong      = Reply{400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."}
	ServiceUnavailable   = Reply{503, "ServiceUnavailable", "Service is unavailable. Please try again later."}
)

// Call is one request the fake received.
type Call struct {
	Action string
	Form   url.Values
	Header http.Header
	// Signed: the request carried a SigV4 Authorization header; KeyID and
	// Region are from its credential scope; SignatureOK says whether the
	// signature verified against the secret the fake issued for KeyID.
	Signed      bool
	KeyID       string
	Region      string
	Service     string
	SignatureOK bool
	SignError   string
}

// Credentials are what the fake issued.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
	ARN                                        string
}

// Server is the fake. Use New, then point the code under test at URL.
type Server struct {
	URL string
	// Now is the fake's clock for expirations; nil means time.Now.
	Now func() time.Time
	// AccountOverride, when set, replaces the account in returned ARNs, to
	// test allow-lists.
	AccountOverride string
	// Respond, when set, is asked first for every call; returning false
	// falls back to the queue. It may call Issued.
	Respond func(c Call) (Reply, bool)

	srv     *httptest.Server
	mu      sync.Mutex
	calls   []Call
	queued  map[string][]Reply
	issued  map[string]Credentials
	ordered []Credentials
	n       int
}

// New starts a fake on loopback. Close it when done.
func New() *Server {
	s := &Server{queued: map[string][]Reply{}, issued: map[string]Credentials{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Queue makes the next calls of action get these replies, in order; after
// them, calls succeed again.
func (s *Server) Queue(action string, replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queued[action] = append(s.queued[action], replies...)
}

// Calls returns the calls so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Issued returns the credentials handed out so far, oldest first.
func (s *Server) Issued() []Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Credentials(nil), s.ordered...)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeError(w, Reply{400, "InvalidAction", "expected a form POST"})
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, Reply{400, "MalformedQueryString", "bad form"})
		return
	}
	c := Call{Action: form.Get("Action"), Form: form, Header: r.Header.Clone()}
	if auth := r.Header.Get("Authorization"); auth != "" {
		c.Signed = true
		c.KeyID, c.Region, c.Service, err = s.verify(r, body)
		c.SignatureOK = err == nil
		if err != nil {
			c.SignError = err.Error()
		}
	}

	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	reply, answered := Reply{}, false
	if s.Respond != nil {
		reply, answered = s.Respond(c)
	}
	s.mu.Lock()
	if q := s.queued[c.Action]; !answered && len(q) > 0 {
		reply, s.queued[c.Action] = q[0], q[1:]
	}
	s.mu.Unlock()

	switch {
	case form.Get("Version") != "2011-06-15":
		reply = Reply{400, "InvalidAction", "unknown version"}
	case c.Action == AssumeRoleWithWebIdentity && c.Signed:
		reply = Reply{400, "InvalidParameterValue", "AssumeRoleWithWebIdentity must not be signed"}
	case c.Action == AssumeRole && !c.Signed:
		reply = Reply{403, "MissingAuthenticationToken", "Request is missing Authentication Token"}
	case c.Action == AssumeRole && !c.SignatureOK:
		reply = Reply{403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
	case c.Action == GetCallerIdentity && !c.Signed:
		reply = Reply{403, "MissingAuthenticationToken", "Request is missing Authentication Token"}
	case c.Action == GetCallerIdentity && !c.SignatureOK:
		reply = Reply{403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
	case c.Action != AssumeRole && c.Action != AssumeRoleWithWebIdentity && c.Action != GetCallerIdentity:
		reply = Reply{400, "InvalidAction", "Could not find operation " + c.Action}
	}
	if reply.Status != 0 {
		writeError(w, reply)
		return
	}
	if c.Action == GetCallerIdentity {
		s.identify(w, c)
		return
	}
	s.succeed(w, c)
}

// identify answers GetCallerIdentity for the session whose keys signed it.
func (s *Server) identify(w http.ResponseWriter, c Call) {
	s.mu.Lock()
	cr := s.issued[c.KeyID]
	s.mu.Unlock()
	parts := strings.SplitN(cr.ARN, ":", 6)
	acct := ""
	if len(parts) == 6 {
		acct = parts[4]
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>%s</Arn>
    <UserId>AROA3XFRBF535PLBIFPI4:session</UserId>
    <Account>%s</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`, esc(cr.ARN), esc(acct))
}

func (s *Server) succeed(w http.ResponseWriter, c Call) {
	roleARN, session := c.Form.Get("RoleArn"), c.Form.Get("RoleSessionName")
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 || !strings.HasPrefix(parts[5], "role/") || session == "" {
		writeError(w, Reply{400, "ValidationError", "1 validation error detected: Value at 'roleArn' failed to satisfy constraint"})
		return
	}
	acct := parts[4]
	if s.AccountOverride != "" {
		acct = s.AccountOverride
	}
	name := parts[5][strings.LastIndex(parts[5], "/")+1:]
	dur := 3600
	if d := c.Form.Get("DurationSeconds"); d != "" {
		dur, _ = strconv.Atoi(d)
	}

	s.mu.Lock()
	s.n++
	cr := Credentials{
		AccessKeyID:     fmt.Sprintf("ASIAFAKE%012d", s.n),
		SecretAccessKey: "fakeSecret/" + randomHex(16),
		SessionToken:    "FwoGZXIvYXdzEFAKE" + randomHex(32),
		Expiration:      s.now().Add(time.Duration(dur) * time.Second).UTC().Truncate(time.Second),
		ARN:             fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", parts[1], acct, name, session),
	}
	s.issued[cr.AccessKeyID] = cr
	s.ordered = append(s.ordered, cr)
	s.mu.Unlock()

	var extra string
	if c.Action == AssumeRoleWithWebIdentity {
		sub, aud, provider := webIdentity(c.Form.Get("WebIdentityToken"))
		extra = "<SubjectFromWebIdentityToken>" + esc(sub) + "</SubjectFromWebIdentityToken>\n" +
			"    <Audience>" + esc(aud) + "</Audience>\n" +
			"    <Provider>arn:aws:iam::" + acct + ":oidc-provider/" + esc(provider) + "</Provider>\n    "
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", "c6104cbe-af31-11e0-8154-cbc7ccf896c7")
	_, _ = fmt.Fprintf(w, `<%[1]sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <%[1]sResult>
    %[2]s<AssumedRoleUser>
      <Arn>%[3]s</Arn>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:%[4]s</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>%[5]s</SessionToken>
      <SecretAccessKey>%[6]s</SecretAccessKey>
      <Expiration>%[7]s</Expiration>
      <AccessKeyId>%[8]s</AccessKeyId>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </%[1]sResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</%[1]sResponse>
`, c.Action, extra, esc(cr.ARN), esc(session), cr.SessionToken, esc(cr.SecretAccessKey), cr.Expiration.Format(time.RFC3339), cr.AccessKeyID)
}

func writeError(w http.ResponseWriter, r Reply) {
	typ := "Sender"
	if r.Status >= 500 {
		typ = "Receiver"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", "4f8e3d1a-0000-4000-8000-fa1e0000e440")
	w.WriteHeader(r.Status)
	_, _ = fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>%s</Type>
    <Code>%s</Code>
    <Message>%s</Message>
  </Error>
  <RequestId>4f8e3d1a-0000-4000-8000-fa1e0000e440</RequestId>
</ErrorResponse>
`, typ, esc(r.Code), esc(r.Message))
}

// verify recomputes the SigV4 signature with the secret the fake issued and
// compares it with the one sent.
func (s *Server) verify(r *http.Request, body []byte) (keyID, region, service string, err error) {
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return "", "", "", errors.New("not AWS4-HMAC-SHA256")
	}
	fields := map[string]string{}
	for _, f := range strings.Split(strings.TrimPrefix(auth, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return "", "", "", errors.New("bad credential scope")
	}
	keyID, region, service = scope[0], scope[2], scope[3]
	s.mu.Lock()
	cr, ok := s.issued[keyID]
	s.mu.Unlock()
	if !ok {
		return keyID, region, service, errors.New("unknown access key")
	}
	if r.Header.Get("X-Amz-Security-Token") != cr.SessionToken {
		return keyID, region, service, errors.New("session token does not belong to the access key")
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return keyID, region, service, errors.New("bad X-Amz-Date")
	}

	// The signature is recomputed by hand over exactly the headers the
	// client signed: re-signing with an SDK would pick its own header set,
	// and other SDKs (the AWS CLI's botocore) sign a different one.
	signed := strings.Split(fields["SignedHeaders"], ";")
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canon.WriteString(path + "\n")
	canon.WriteString(canonicalQuery(r.URL.Query()) + "\n")
	for _, h := range signed {
		v := strings.Join(r.Header.Values(h), ",")
		if h == "host" {
			v = r.Host
		}
		canon.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	sum := sha256.Sum256(body)
	canon.WriteString("\n" + fields["SignedHeaders"] + "\n" + hex.EncodeToString(sum[:]))
	crHash := sha256.Sum256([]byte(canon.String()))
	day := at.Format("20060102")
	toSign := "AWS4-HMAC-SHA256\n" + at.Format("20060102T150405Z") + "\n" + day + "/" + region + "/" + service + "/aws4_request\n" + hex.EncodeToString(crHash[:])
	key := hmacSHA256([]byte("AWS4"+cr.SecretAccessKey), day)
	for _, part := range []string{region, service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	if !hmac.Equal([]byte(hex.EncodeToString(hmacSHA256(key, toSign))), []byte(fields["Signature"])) {
		return keyID, region, service, errors.New("signature does not match")
	}
	return keyID, region, service, nil
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalQuery is SigV4's canonical query string: sorted, RFC 3986 escaped.
func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, sigEscape(k)+"="+sigEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

func sigEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// webIdentity reads what STS echoes of a web identity token: its subject,
// audience and issuer (as IAM names the provider: host and path). The fake
// does not verify the token; keyless has, before it calls.
func webIdentity(tok string) (sub, aud, provider string) {
	sub, aud, provider = "unknown", "unknown", "issuer.example"
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return sub, aud, provider
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return sub, aud, provider
	}
	var c struct {
		Sub string          `json:"sub"`
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return sub, aud, provider
	}
	if c.Sub != "" {
		sub = c.Sub
	}
	var one string
	var many []string
	switch {
	case json.Unmarshal(c.Aud, &one) == nil && one != "":
		aud = one
	case json.Unmarshal(c.Aud, &many) == nil && len(many) > 0:
		aud = many[0]
	}
	if p := strings.TrimPrefix(strings.TrimPrefix(c.Iss, "https://"), "http://"); p != "" {
		provider = p
	}
	return sub, aud, provider
}
