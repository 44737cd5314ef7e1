// DEFLATE/gzip decompression in pure Swift.
