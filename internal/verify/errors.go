package verify

import (
	"errors"

	"github.com/keyless-dev/keyless/internal/token"
)

// Refusals. Every error Verify returns wraps one of these and is marked
// failure.ErrVerify, except network failures (failure.ErrNetwork) and bad
// configuration such as an http:// issuer (failure.ErrUsage).
var (
	ErrMalformed       = token.ErrMalformed
	ErrExpired         = errors.New("token expired")
	ErrNotYetValid     = errors.New("token not valid yet")
	ErrIssuer          = errors.New("wrong issuer")
	ErrUntrustedIssuer = errors.New("untrusted issuer")
	ErrAudience        = errors.New("wrong audience")
	ErrSignature       = errors.New("bad signature")
	ErrUnknownKey      = errors.New("unknown signing key")
	ErrAlgorithm       = errors.New("forbidden algorithm")
	// ErrKeys: the issuer's key set could not be used (not JSON, no usable
	// key, discovery naming another issuer).
	ErrKeys = errors.New("issuer keys unusable")
)
