// Package windowtest holds the desktop player's end-to-end test: it builds strata-player,
// runs it in a real window under Xvfb and reads the screen back from the X server. It is
// a package of its own because a test binary importing Ebiten cannot start without a
// display.
package windowtest
