package aws

import "testing"

func BenchmarkScrub(b *testing.B) {
	msg := "1 validation error detected: Value '" + testToken + "' at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		scrub(msg)
	}
}
