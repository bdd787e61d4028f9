package s3

// SetFlipCRC32C makes st send wrong trailing CRC-32Cs (xored with x), so
// tests can see the service refuse them.
func SetFlipCRC32C(st *Store, x uint32) { st.flipCRC32C = x }
