package claims

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValuesNormalize(t *testing.T) {
	c, err := Parse([]byte(`{"s":"main","b":true,"f":false,"n":42,"big":12345678901234567890,"e":1e3,"x":1.5,
		"arr":["a",1,true,null],"null":null,"obj":{"k":"v"}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want []string
		ok   bool
	}{
		{"s", []string{"main"}, true},
		{"b", []string{"true"}, true},
		{"f", []string{"false"}, true},
		{"n", []string{"42"}, true},
		{"big", []string{"12345678901234567890"}, true},
		{"e", []string{"1000"}, true},
		{"x", []string{"1.5"}, true},
		{"arr", []string{"a", "1", "true"}, true},
		{"null", nil, false},
		{"missing", nil, false},
		{"obj", []string{`{"k":"v"}`}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.Values(tt.name)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Values(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `"x"`, `{"a":`, "{\n\"a\": tru}", `{} {}`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
	_, err := Parse([]byte("{\n\"a\": tru}"))
	if !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %q does not name the line", err)
	}
}

func TestTimeAndAudience(t *testing.T) {
	c, _ := Parse([]byte(`{"exp":1700000000,"aud":["a","b"],"iss":"https://x","sub":"repo:a/b"}`))
	if got, ok := c.Time("exp"); !ok || !got.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("exp = %v", got)
	}
	if !reflect.DeepEqual(c.Audience(), []string{"a", "b"}) || c.Issuer() != "https://x" || c.Subject() != "repo:a/b" {
		t.Fatal("accessors")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"sub":"repo:a/b:ref:refs/heads/main","n":1,"b":true,"a":[1,"x"]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		for _, n := range c.Names() {
			c.Values(n)
			c.Time(n)
		}
		if _, err := c.JSON(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNestedClaims(t *testing.T) {
	c, err := Parse([]byte(`{"kubernetes.io": {"namespace": "ci", "serviceaccount": {"name": "deployer"}}, "oidc.circleci.com/project-id": "p1", "a/b": "top"}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"kubernetes.io/namespace":           "ci",
		"kubernetes.io/serviceaccount/name": "deployer",
		"oidc.circleci.com/project-id":      "p1",
		"a/b":                               "top",
	} {
		if got := c.String(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, ok := c.Values("kubernetes.io/nope"); ok {
		t.Error("a missing nested claim is present")
	}
}
