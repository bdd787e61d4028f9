package job

// Every store ossimport can migrate from or to registers itself here.
import (
	_ "github.com/ossimport/ossimport/internal/storage/azure"
	_ "github.com/ossimport/ossimport/internal/storage/bos"
	_ "github.com/ossimport/ossimport/internal/storage/cos"
	_ "github.com/ossimport/ossimport/internal/storage/httplist"
	_ "github.com/ossimport/ossimport/internal/storage/ks3"
	_ "github.com/ossimport/ossimport/internal/storage/local"
	_ "github.com/ossimport/ossimport/internal/storage/oss"
	_ "github.com/ossimport/ossimport/internal/storage/qiniu"
	_ "github.com/ossimport/ossimport/internal/storage/s3"
	_ "github.com/ossimport/ossimport/internal/storage/youpai"
)
