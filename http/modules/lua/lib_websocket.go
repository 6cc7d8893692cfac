package lua

import (
	"math/rand/v2"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// nginx.websocket.protocol (lua-resty-websocket's protocol module, which
// Debian ships under the nginx. prefix) uses the FFI for its unmasking
// buffer. This is a replacement with the same functions, results and
// error strings: the framing in Lua (it must call the cosocket, which
// waits) and the masking in Go. The server and client modules load it
// unmodified from lua_package_path.

func init() { registerAPI(installWebsocket) }

// wsProtocolSource is the framing half of the module. Its chunk receives
// the Go helpers: mask(data, key) and a random masking key maker.
const wsProtocolSource = `
local mask, newkey = ...
local byte, char, sub = string.byte, string.char, string.sub
local bit = require "bit"
local band, bor, lshift, rshift = bit.band, bit.bor, bit.lshift, bit.rshift
local ok, new_tab = pcall(require, "table.new")
if not ok then new_tab = function() return {} end end

local M = new_tab(0, 5)
M.new_tab = new_tab
M._VERSION = "0.08"

local names = {
    [0x0] = "continuation", [0x1] = "text", [0x2] = "binary",
    [0x8] = "close", [0x9] = "ping", [0xa] = "pong",
}

function M.recv_frame(sock, max_payload_len, force_masking)
    local head, err = sock:receive(2)
    if not head then
        return nil, nil, "failed to receive the first 2 bytes: " .. err
    end
    local b1, b2 = byte(head, 1, 2)
    local fin = band(b1, 0x80) ~= 0
    if band(b1, 0x70) ~= 0 then
        return nil, nil, "bad RSV1, RSV2, or RSV3 bits"
    end
    local opcode = band(b1, 0x0f)
    if opcode >= 0x3 and opcode <= 0x7 then
        return nil, nil, "reserved non-control frames"
    end
    if opcode >= 0xb and opcode <= 0xf then
        return nil, nil, "reserved control frames"
    end
    local masked = band(b2, 0x80) ~= 0
    if force_masking and not masked then
        return nil, nil, "frame unmasked"
    end
    local len = band(b2, 0x7f)
    if len == 126 then
        local ext, err = sock:receive(2)
        if not ext then
            return nil, nil, "failed to receive the 2 byte payload length: " .. (err or "unknown")
        end
        len = bor(lshift(byte(ext, 1), 8), byte(ext, 2))
    elseif len == 127 then
        local ext, err = sock:receive(8)
        if not ext then
            return nil, nil, "failed to receive the 8 byte payload length: " .. (err or "unknown")
        end
        local e1, e2, e3, e4, e5, e6, e7, e8 = byte(ext, 1, 8)
        if e1 ~= 0 or e2 ~= 0 or e3 ~= 0 or e4 ~= 0 or band(e5, 0x80) ~= 0 then
            return nil, nil, "payload len too large"
        end
        len = bor(lshift(e5, 24), lshift(e6, 16), lshift(e7, 8), e8)
    end
    if band(opcode, 0x8) ~= 0 then
        if len > 125 then
            return nil, nil, "too long payload for control frame"
        end
        if not fin then
            return nil, nil, "fragmented control frame"
        end
    end
    if len > max_payload_len then
        return nil, nil, "exceeding max payload len"
    end
    local want = len
    if masked then want = len + 4 end
    local body = ""
    if want > 0 then
        local err
        body, err = sock:receive(want)
        if not body then
            return nil, nil, "failed to read masking-len and payload: " .. (err or "unknown")
        end
    end
    local payload = body
    if masked then
        payload = mask(sub(body, 5), sub(body, 1, 4))
    end
    if opcode == 0x8 then
        if len == 0 then
            return "", "close", nil
        end
        if len < 2 then
            return nil, nil, "close frame with a body must carry a 2-byte status code"
        end
        local code = bor(lshift(byte(payload, 1), 8), byte(payload, 2))
        return sub(payload, 3), "close", code
    end
    local again = nil
    if not fin then again = "again" end
    return payload, names[opcode], again
end

local function build_frame(fin, opcode, payload_len, payload, masking)
    local b1 = opcode
    if fin then b1 = bor(b1, 0x80) end
    local b2, ext
    if payload_len <= 125 then
        b2, ext = payload_len, ""
    elseif payload_len <= 65535 then
        b2 = 126
        ext = char(band(rshift(payload_len, 8), 0xff), band(payload_len, 0xff))
    else
        if band(payload_len, 0x7fffffff) < payload_len then
            return nil, "payload too big"
        end
        b2 = 127
        ext = char(0, 0, 0, 0, band(rshift(payload_len, 24), 0xff),
                   band(rshift(payload_len, 16), 0xff),
                   band(rshift(payload_len, 8), 0xff), band(payload_len, 0xff))
    end
    local key = ""
    if masking then
        b2 = bor(b2, 0x80)
        key = newkey()
        payload = mask(payload, key)
    end
    return char(b1, b2) .. ext .. key .. payload
end
M.build_frame = build_frame

function M.send_frame(sock, fin, opcode, payload, max_payload_len, masking)
    if not payload then
        payload = ""
    elseif type(payload) ~= "string" then
        payload = tostring(payload)
    end
    local len = #payload
    if len > max_payload_len then
        return nil, "payload too big"
    end
    if band(opcode, 0x8) ~= 0 then
        if len > 125 then
            return nil, "too much payload for control frame"
        end
        if not fin then
            return nil, "fragmented control frame"
        end
    end
    local frame, err = build_frame(fin, opcode, len, payload, masking)
    if not frame then
        return nil, "failed to build frame: " .. err
    end
    local bytes, err = sock:send(frame)
    if not bytes then
        return nil, "failed to send frame: " .. err
    end
    return bytes
end

return M
`

func installWebsocket(st *loopState) {
	L := st.vm.L
	mask := L.NewFunction(func(L *glua.LState) int {
		data := L.CheckString(1)
		key := L.CheckString(2)
		if len(key) != 4 || data == "" {
			L.Push(glua.LString(data))
			return 1
		}
		out := make([]byte, len(data))
		for i := 0; i < len(data); i++ {
			out[i] = data[i] ^ key[i&3]
		}
		L.Push(glua.LString(out))
		return 1
	})
	newKey := L.NewFunction(func(L *glua.LState) int {
		k := rand.Uint32()
		L.Push(glua.LString([]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}))
		return 1
	})
	loader := func(L *glua.LState) int {
		fn, err := L.Load(strings.NewReader(wsProtocolSource), "=nginx.websocket.protocol")
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(fn)
		L.Push(mask)
		L.Push(newKey)
		L.Call(2, 1)
		return 1
	}
	st.vm.Preload("nginx.websocket.protocol", loader)
	st.vm.Preload("resty.websocket.protocol", loader)
}
