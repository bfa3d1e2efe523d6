package player

import (
	"net/http"
	"strings"
)

// routeMedia sends media segments to media and everything else to other.
func routeMedia(media, other http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".m4s") {
			media.ServeHTTP(w, r)
			return
		}
		other.ServeHTTP(w, r)
	})
}
