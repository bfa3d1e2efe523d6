package main

/*
#cgo LDFLAGS: -lX11
#include <X11/Xlib.h>
#include <stdio.h>
#include <unistd.h>

// Ebiten opens the display in a package initialiser and panics when it cannot. This ELF
// constructor runs before any Go code: without a reachable X display it says so in one
// line and exits with status 1 (usage or initialisation error).
__attribute__((constructor)) static void strata_check_display(void) {
	Display *d = XOpenDisplay(NULL);
	if (d == NULL) {
		const char *name = XDisplayName(NULL);
		fprintf(stderr, "strata-player: cannot open the X display %s; for playback without a window use: strata play --headless\n",
			name && *name ? name : "(DISPLAY is not set)");
		_exit(1);
	}
	XCloseDisplay(d);
}
*/
import "C"
