// Package charset checks strings byte by byte against small ASCII classes:
// what identifiers (ARNs, names, GUIDs) are made of. Checks written with it
// replace regexps that a run would otherwise compile every time, which costs
// hundreds of microseconds for a bounded repeat such as {1,512}.
//
//	ok := charset.All(name, charset.Alnum, charset.Of("._-"))
package charset
