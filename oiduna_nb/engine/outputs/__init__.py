"""Where the engine's steps go: SuperDirt over OSC, MIDI through rtmidi."""
