//go:build race

package javaregex

const raceEnabled = true
