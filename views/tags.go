package views

import (
	"slices"
	"strings"
	"unicode"

	"github.com/trino-warden/warden/views/sqlgen"
)

// Classification tags SuggestTags proposes. Mask policies match on tags, so
// a mask written for pii.email applies to every column tagged so.
const (
	TagEmail          = "pii.email"
	TagPhone          = "pii.phone"
	TagSSN            = "pii.ssn"
	TagName           = "pii.name"
	TagAddress        = "pii.address"
	TagDateOfBirth    = "pii.dob"
	TagIP             = "pii.ip"
	TagAmount         = "finance.amount"
	TagAccountNumber  = "finance.account"
	maxNamePrefixSize = 2 // c_name, n_name: a table prefix before "name"
)

// typeClass is the coarse class of a column type the rules test.
type typeClass uint8

const (
	classOther typeClass = iota
	classString
	classInteger
	classNumber // decimal, real, double
	classDate   // date, timestamp
	classIP     // ipaddress
)

func classify(typ string) typeClass {
	t, err := sqlgen.ParseType(typ)
	if err != nil {
		return classOther
	}
	switch {
	case t.IsString():
		return classString
	case t.IsInteger():
		return classInteger
	case t.IsNumeric(), t.Kind == sqlgen.KindReal, t.Kind == sqlgen.KindDouble:
		return classNumber
	case t.Kind == sqlgen.KindDate, t.Kind == sqlgen.KindTimestamp, t.Kind == sqlgen.KindTimestampTZ:
		return classDate
	case t.Kind == sqlgen.KindIPAddress:
		return classIP
	}
	return classOther
}

// name is a column name split for matching: its lower-cased words (split
// at non-alphanumerics and camelCase) and the words run together.
type name struct {
	words    []string
	compound string
}

func splitName(column string) name {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	runes := []rune(column)
	for i, r := range runes {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && unicode.IsLower(runes[i-1]):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return name{words: words, compound: strings.Join(words, "")}
}

func (n name) has(words ...string) bool {
	for _, w := range words {
		if slices.Contains(n.words, w) {
			return true
		}
	}
	return false
}

// hasPair reports whether a is directly followed by b among the words.
func (n name) hasPair(a, b string) bool {
	for i := 0; i+1 < len(n.words); i++ {
		if n.words[i] == a && n.words[i+1] == b {
			return true
		}
	}
	return false
}

// contains reports whether the words run together contain one of parts;
// only for parts too long to occur by chance inside unrelated words.
func (n name) contains(parts ...string) bool {
	for _, p := range parts {
		if strings.Contains(n.compound, p) {
			return true
		}
	}
	return false
}

// tagRule suggests tag for a column whose type is one of classes (any type
// when classes is empty) and whose name match accepts.
type tagRule struct {
	tag     string
	classes []typeClass
	match   func(n name) bool
}

var tagRules = []tagRule{
	{TagEmail, []typeClass{classString}, func(n name) bool {
		return n.has("email", "mail", "emailaddress") || n.hasPair("e", "mail") || n.contains("email")
	}},
	{TagPhone, []typeClass{classString, classInteger}, func(n name) bool {
		return n.has("phone", "mobile", "tel", "telephone", "cellphone", "msisdn", "fax") || n.contains("phone")
	}},
	{TagSSN, []typeClass{classString, classInteger}, func(n name) bool {
		return n.has("ssn", "nino", "socialsecurity") || n.hasPair("social", "security") || n.hasPair("national", "id") ||
			n.contains("socialsecurity", "nationalid")
	}},
	{TagName, []typeClass{classString}, func(n name) bool {
		if n.hasPair("first", "name") || n.hasPair("last", "name") || n.hasPair("full", "name") || n.hasPair("given", "name") ||
			n.hasPair("family", "name") || n.hasPair("middle", "name") || n.has("firstname", "lastname", "fullname", "surname") {
			return true
		}
		// "name" alone, or after a short table prefix (c_name).
		switch len(n.words) {
		case 1:
			return n.words[0] == "name"
		case 2:
			return n.words[1] == "name" && len(n.words[0]) <= maxNamePrefixSize
		}
		return false
	}},
	{TagAddress, []typeClass{classString, classInteger}, func(n name) bool {
		// ip_address and email_address are other tags' business.
		if n.hasPair("ip", "address") || n.hasPair("email", "address") || n.hasPair("mac", "address") || n.contains("ipaddress", "ipaddr", "emailaddress") {
			return false
		}
		return n.has("address", "addr", "street", "city", "zip", "zipcode", "postal", "postcode", "postalcode") || n.contains("address")
	}},
	{TagDateOfBirth, []typeClass{classDate}, func(n name) bool {
		return n.has("dob", "birth", "birthday", "birthdate", "born") || n.contains("birth")
	}},
	{TagAmount, []typeClass{classNumber, classInteger}, func(n name) bool {
		return n.has("amount", "amt", "price", "salary", "balance", "bal", "total", "cost", "wage", "revenue", "income") ||
			n.contains("amount", "price", "salary", "balance", "acctbal", "total", "cost")
	}},
	{TagAccountNumber, []typeClass{classString, classInteger}, func(n name) bool {
		return n.has("iban", "card", "pan") || n.hasPair("account", "number") || n.hasPair("account", "no") || n.hasPair("acct", "number") ||
			n.hasPair("acct", "no") || n.hasPair("credit", "card") || n.hasPair("card", "number") ||
			n.contains("accountnumber", "creditcard", "cardnumber", "acctnumber")
	}},
	{TagIP, []typeClass{classString, classIP}, func(n name) bool {
		return n.has("ip", "ipaddress", "ipaddr", "ipv4", "ipv6") || n.contains("ipaddress", "ipaddr")
	}},
}

// SuggestTags proposes classification tags for a column from its name and
// Trino type: pii.email, pii.phone, pii.ssn, pii.name, pii.address,
// pii.dob, pii.ip, finance.amount and finance.account. Each tag needs a
// name that suggests it and a type that can hold it (a date of birth is a
// date, an amount a number), and an ipaddress column is pii.ip whatever its
// name. The result is sorted and never nil. Suggestions are a starting
// point for a data owner to review, not a classification.
func SuggestTags(column, typ string) []string {
	n := splitName(column)
	class := classify(typ)
	tags := []string{}
	for _, r := range tagRules {
		if len(r.classes) > 0 && !slices.Contains(r.classes, class) {
			continue
		}
		if r.match(n) || (r.tag == TagIP && class == classIP) {
			tags = append(tags, r.tag)
		}
	}
	slices.Sort(tags)
	return tags
}
