// Package emptygif is nginx's ngx_http_empty_gif_module: the empty_gif
// content handler, which answers with a one-pixel transparent GIF.
//
// The directive is handled on the goroutine that builds the cycle; the
// handler runs on the request's loop and allocates nothing.
package emptygif

import (
	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_empty_gif_module.
var Module = &core.Module{
	Name: "ngx_http_empty_gif_module",
	Type: core.HTTPType,
}

func init() {
	Module.Directives = []core.Directive{
		{Name: "empty_gif", Ctx: core.HTTPLoc, Args: core.NoArgs, Level: core.LocLevel, Set: setEmptyGIF},
	}
}

// gif is the smallest transparent 1x1 GIF89a, the 43 bytes nginx sends:
// header and logical screen, a two-colour table, a graphic control
// extension marking colour 1 transparent, the image descriptor, the LZW
// data for one pixel and the trailer.
var gif = []byte{
	'G', 'I', 'F', '8', '9', 'a',
	0x01, 0x00, 0x01, 0x00, // 1x1
	0x80, 0x01, 0x00, // global colour table of two entries
	0x00, 0x00, 0x00, 0xff, 0xff, 0xff, // black, white
	0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x01, 0x00, // transparent colour 1
	0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, // image at 0,0, 1x1
	0x02, 0x02, 0x4c, 0x01, 0x00, // LZW minimum code size 2, one block
	0x3b, // trailer
}

// lastModified is the fixed modification time nginx gives the image
// (Mon, 28 Sep 1970 06:00:00 GMT), so that clients can revalidate it.
const lastModified = 23349600

// setEmptyGIF makes the image the location's content handler.
func setEmptyGIF(p *core.Parser, d *conf.Directive, _ any) error {
	p.Ctx().ConfFor(http.CoreModule, core.LocLevel).(*http.LocConf).Handler = handler
	return nil
}

// handler is ngx_http_empty_gif_handler: GET and HEAD get the image,
// other methods 405.
func handler(r *http.Request) int {
	if r.Method != httpparse.MethodGET && r.Method != httpparse.MethodHEAD {
		return 405
	}
	r.Out.LastModified = lastModified
	return r.SendResponse(200, "image/gif", gif)
}
