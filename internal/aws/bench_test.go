package aws

import (
	"strings"
	"testing"
)

func BenchmarkReplaceSection(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 200; i++ {
		sb.WriteString("[profile p")
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteString("]\nregion = eu-west-1\nrole_arn = arn:aws:iam::111122223333:role/r\n\n")
	}
	existing := []byte(sb.String())
	section := []byte("[profile ci]\nregion = eu-west-1\n")
	names := []string{"profile ci"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		replaceSection(existing, names, section)
	}
}

func BenchmarkScrub(b *testing.B) {
	msg := "1 validation error detected: Value '" + testToken + "' at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		scrub(msg)
	}
}
