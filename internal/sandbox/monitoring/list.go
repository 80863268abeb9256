package monitoring

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// What the List, Get, Update and Delete methods of alert policies, notification channels and metric
// descriptors handle alike.

// lookupFunc resolves a filter field on one entry: its value, whether it is present and whether the field
// is known (see filter.match).
type lookupFunc = func(field string) (string, bool, bool)

// parseList checks the parent ("projects/{p}", in the request's name field) and the filter of a List
// request.
func parseList(name, filterExpr string) (string, filter, error) {
	project, err := parseProject(name, "name")
	if err != nil {
		return "", nil, err
	}
	f, err := parseFilter(filterExpr)
	if err != nil {
		return "", nil, err
	}
	return project, f, nil
}

// checkOrderBy refuses an order_by, which the sandbox does not emulate.
func checkOrderBy(orderBy string) error {
	if orderBy != "" {
		return status.Error(codes.Unimplemented, "sandbox: order_by is not supported; results are ordered by name")
	}
	return nil
}

// listPage returns the entries of m named under prefix that f matches (through lookup), ordered by name
// and cut to the page that size and token select (at most maxSize), the next page token and the number
// of matches. The entries are the stored ones: the caller copies them.
func listPage[M any](m map[string]M, prefix string, f filter, lookup func(M) lookupFunc,
	size int32, token string, maxSize int) (entries []M, next string, total int, err error) {
	var keys []string
	for name, e := range m {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		ok, err := f.match(lookup(e))
		if err != nil {
			return nil, "", 0, err
		}
		if ok {
			keys = append(keys, name)
		}
	}
	total = len(keys)
	keys, next, err = page(keys, size, token, maxSize)
	if err != nil {
		return nil, "", 0, err
	}
	for _, k := range keys {
		entries = append(entries, m[k])
	}
	return entries, next, total, nil
}

// notFound is the NOT_FOUND error for the entity called name, of kind what ("alert policy").
func notFound(what, name string) error {
	return status.Errorf(codes.NotFound, "Requested entity was not found: %s %s", what, name)
}
