package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidRequest is wrapped by every *Error.
var ErrInvalidRequest = errors.New("invalid request")

// ErrTooExpensive is a search that did not finish within its deadline. It
// is not the request's fault (the same search may finish when the server is
// less busy), so it is not an *Error. It wraps context.DeadlineExceeded.
var ErrTooExpensive = fmt.Errorf("the search was too expensive to finish in time; narrow the query or try again later: %w", context.DeadlineExceeded)

// Error is a problem with a request, shown to the user. Param names the
// parameter; Pos is a byte offset in the query, or -1.
type Error struct {
	Param string
	Pos   int
	Msg   string
}

func (e *Error) Error() string {
	if e.Param == "q" && e.Pos >= 0 {
		return fmt.Sprintf("query, at position %d: %s", e.Pos+1, e.Msg)
	}
	if e.Param != "" {
		return fmt.Sprintf("%s: %s", e.Param, e.Msg)
	}
	return e.Msg
}

// Unwrap makes errors.Is(err, ErrInvalidRequest) true.
func (e *Error) Unwrap() error { return ErrInvalidRequest }

// searchErr turns bleve errors caused by the request into the engine's: a
// search past its deadline into ErrTooExpensive, a query expanding past
// MaxClauses into a request error.
func (e *Engine) searchErr(err error) error {
	switch {
	case errors.Is(err, ErrTooExpensive):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return ErrTooExpensive
	case strings.Contains(err.Error(), "TooManyClauses"):
		return &Error{Param: "q", Pos: -1, Msg: "the query expands to too many terms; use a longer prefix"}
	}
	return err
}
