// Package javaregex matches Java regular expressions (java.util.regex) with
// the semantics Trino's file-based access control relies on: every pattern in
// rules.json is matched against the whole string with Matcher.matches().
//
// Compile parses the pattern with a port of the parser of
// java.util.regex.Pattern, so that Java's syntax, its errors and its quirks
// are reproduced. That includes comments mode, \Q...\E, dangling '{',
// character class union and intersection, ASCII-only case-insensitivity
// unless (?u), octal, \x, \u and \c escapes, and Java's line terminators for
// '.', '$' and '^'. Every class, escape and literal is resolved to an explicit
// set of code points, and the pattern is then matched in one of four ways,
// fastest first:
//
//   - literals and alternations of literals are compared as strings;
//   - a literal prefix and suffix around ".*" or ".+" are compared as strings
//     and the middle is scanned for line terminators;
//   - patterns without lookaround, back references, atomic groups,
//     possessive quantifiers or line anchors in the middle are translated to
//     Go's RE2 engine (package regexp), which then behaves as Java does;
//   - everything else is translated to github.com/dlclark/regexp2, a
//     backtracking engine, with a per-match timeout (MatchTimeout).
//
// Some constructs cannot be matched with Java's exact semantics. Compile
// rejects them with an *Error whose Unsupported field is set, rather than
// compiling them with different behaviour. They are:
//
//   - word boundaries (\b, \B);
//   - grapheme clusters (\X, \b{g});
//   - named characters (\N{...});
//   - Unicode blocks (\p{InX}) and a few Unicode properties;
//   - the (?U) and (?c) flags;
//   - case-insensitive back references;
//   - case-sensitive properties such as \p{Lower} under (?i);
//   - look-behinds that are unbounded or contain lookarounds, atomic groups,
//     line anchors or variable quantified groups;
//   - \R inside a quantified group;
//   - unpaired surrogates.
//
// Character properties come from Go's Unicode tables, which may be a
// different Unicode version from the JVM's.
//
// The differential test in oracle_test.go compares the package with
// java.util.regex through testdata/Oracle.java. It runs when JAVAREGEX_JAVA
// names a java binary.
package javaregex
