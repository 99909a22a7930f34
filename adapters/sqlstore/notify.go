package sqlstore

// maxNotifyPayload is the largest payload sent in one NOTIFY. PostgreSQL
// refuses payloads of 8000 bytes or more.
const maxNotifyPayload = 7900

// notifyPayloads joins keys with "\n" into as few payloads as possible,
// each at most limit bytes. A key longer than limit travels alone (and
// PostgreSQL may refuse it).
func notifyPayloads(keys []string, limit int) []string {
	var out []string
	var cur []byte
	for _, k := range keys {
		if len(cur) > 0 && len(cur)+1+len(k) > limit {
			out = append(out, string(cur))
			cur = cur[:0]
		}
		if len(cur) > 0 {
			cur = append(cur, '\n')
		}
		cur = append(cur, k...)
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
}
