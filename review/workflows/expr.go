// Package workflows reads the GitHub Actions workflows of .github/workflows and works out, for
// one event and its inputs, which jobs and steps run: the tests check the flows a team runs
// every day (a pull request's preview, an infrastructure update, a release, a rollback) have
// what the program needs and nothing that could block them.
package workflows

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Eval evaluates a GitHub Actions expression (the part inside ${{ }}, or a bare `if:`) over
// ctx, with the language's operators and loose comparison ("Expressions" in GitHub Actions'
// documentation): literals, property paths, !, ==, !=, &&, ||, parentheses and the status
// functions success(), failure(), cancelled() and always().
func Eval(expr string, ctx map[string]any) (any, error) {
	p := &parser{src: expr, ctx: ctx}
	v := p.or()
	p.space()
	if p.err == nil && p.pos < len(p.src) {
		p.err = fmt.Errorf("unexpected %q", p.src[p.pos:])
	}
	if p.err != nil {
		return nil, fmt.Errorf("expression %q: %w", expr, p.err)
	}
	return v, nil
}

// Truthy is the expression language's truthiness: false, 0, NaN, "" and null are false.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	}
	return true
}

// Interpolate replaces each ${{ expr }} of s by its value, as GitHub does in `with:` and `run:`;
// a string that is exactly one expression keeps the expression's type (a boolean input).
func Interpolate(s string, ctx map[string]any) (any, error) {
	trimmed := strings.TrimSpace(s)
	if strings.HasPrefix(trimmed, "${{") && strings.HasSuffix(trimmed, "}}") && strings.Count(trimmed, "${{") == 1 {
		return Eval(strings.TrimSuffix(strings.TrimPrefix(trimmed, "${{"), "}}"), ctx)
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unclosed expression in %q", s)
		}
		v, err := Eval(s[i+3:i+j], ctx)
		if err != nil {
			return nil, err
		}
		b.WriteString(s[:i] + format(v))
		s = s[i+j+2:]
	}
}

func format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

type parser struct {
	src string
	pos int
	ctx map[string]any
	err error
}

func (p *parser) space() {
	for p.pos < len(p.src) && strings.ContainsRune(" \t\n", rune(p.src[p.pos])) {
		p.pos++
	}
}

func (p *parser) eat(tok string) bool {
	p.space()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *parser) or() any {
	v := p.and()
	for p.err == nil && p.eat("||") {
		r := p.and()
		if !Truthy(v) {
			v = r
		}
	}
	return v
}

func (p *parser) and() any {
	v := p.comparison()
	for p.err == nil && p.eat("&&") {
		r := p.comparison()
		if Truthy(v) {
			v = r
		}
	}
	return v
}

func (p *parser) comparison() any {
	v := p.unary()
	for p.err == nil {
		switch {
		case p.eat("=="):
			v = equal(v, p.unary())
		case p.eat("!="):
			v = !equal(v, p.unary())
		default:
			return v
		}
	}
	return v
}

func (p *parser) unary() any {
	p.space()
	if strings.HasPrefix(p.src[p.pos:], "!") && !strings.HasPrefix(p.src[p.pos:], "!=") {
		p.pos++
		return !Truthy(p.unary())
	}
	return p.primary()
}

func (p *parser) primary() any {
	p.space()
	if p.pos >= len(p.src) {
		p.err = fmt.Errorf("missing operand")
		return nil
	}
	switch c := p.src[p.pos]; {
	case c == '(':
		p.pos++
		v := p.or()
		if !p.eat(")") {
			p.err = fmt.Errorf("missing )")
		}
		return v
	case c == '\'':
		end := strings.Index(p.src[p.pos+1:], "'")
		if end < 0 {
			p.err = fmt.Errorf("unclosed string")
			return nil
		}
		s := p.src[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		return s
	}
	start := p.pos
	for p.pos < len(p.src) && (isIdent(p.src[p.pos]) || p.src[p.pos] == '.') {
		p.pos++
	}
	word := p.src[start:p.pos]
	switch word {
	case "":
		p.err = fmt.Errorf("unexpected %q", p.src[p.pos:])
		return nil
	case "true", "false":
		return word == "true"
	case "null":
		return nil
	}
	if n, err := strconv.ParseFloat(word, 64); err == nil {
		return n
	}
	if p.eat("(") {
		if !p.eat(")") {
			p.err = fmt.Errorf("%s: only functions without arguments are known", word)
		}
		v, ok := p.ctx[word+"()"]
		if !ok {
			p.err = fmt.Errorf("unknown function %s()", word)
		}
		return v
	}
	var v any = p.ctx
	for _, part := range strings.Split(word, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

func isIdent(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// equal is the language's loose equality: same types compare directly (strings ignoring case),
// different types compare as numbers.
func equal(a, b any) bool {
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return strings.EqualFold(sa, sb)
		}
	}
	if ba, ok := a.(bool); ok {
		if bb, ok := b.(bool); ok {
			return ba == bb
		}
	}
	return number(a) == number(b)
}

func number(v any) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case float64:
		return x
	case string:
		if strings.TrimSpace(x) == "" {
			return 0
		}
		if n, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return n
		}
	}
	return math.NaN()
}
