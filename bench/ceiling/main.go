// Command ceiling is the bare-SDK copy the benchmark (bench/peers.sh)
// measures ossimport against: it uploads every file under a folder to an
// S3 bucket with aws-sdk-go-v2, a plain PutObject per file with 32
// goroutines, and files of 64 MiB and more as multipart uploads of 16 MiB
// parts, 8 parts in flight per file, read straight from the file. No
// planning, no records, no verification: the fastest a client on this
// machine can go.
//
//	AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
//	    ceiling -endpoint http://127.0.0.1:7070 -bucket b -src /data
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

type options struct {
	endpoint, bucket, src, region string
	objects, partsInFlight        int
	partSize, threshold           int64
}

func main() {
	var o options
	flag.StringVar(&o.endpoint, "endpoint", "", "S3 endpoint URL")
	flag.StringVar(&o.bucket, "bucket", "", "destination bucket")
	flag.StringVar(&o.src, "src", "", "folder to upload")
	flag.StringVar(&o.region, "region", "us-east-1", "region")
	flag.IntVar(&o.objects, "objects", 32, "objects uploaded at once")
	flag.IntVar(&o.partsInFlight, "parts", 8, "parts in flight per multipart upload")
	flag.Int64Var(&o.partSize, "part-size", 16<<20, "multipart part size")
	flag.Int64Var(&o.threshold, "threshold", 64<<20, "files this large or larger go multipart")
	flag.Parse()
	if o.endpoint == "" || o.bucket == "" || o.src == "" {
		fmt.Fprintln(os.Stderr, "ceiling: -endpoint, -bucket and -src are required")
		os.Exit(2)
	}
	start := time.Now()
	n, bytes, err := run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
	fmt.Printf("%d objects, %d bytes in %.2fs\n", n, bytes, time.Since(start).Seconds())
}

func run(ctx context.Context, o options) (int64, int64, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(o.region))
	if err != nil {
		return 0, 0, fmt.Errorf("load aws config: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.BaseEndpoint = aws.String(o.endpoint)
		so.UsePathStyle = true
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	paths := make(chan string)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		errs     []error
		objs, nb atomic.Int64
	)
	for range o.objects {
		wg.Go(func() {
			for p := range paths {
				size, err := upload(ctx, client, o, p)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					continue
				}
				objs.Add(1)
				nb.Add(size)
			}
		})
	}
	walkErr := filepath.WalkDir(o.src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		paths <- p
		return nil
	})
	close(paths)
	wg.Wait()
	return objs.Load(), nb.Load(), errors.Join(append(errs, walkErr)...)
}

func upload(ctx context.Context, client *s3.Client, o options, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	key, err := filepath.Rel(o.src, path)
	if err != nil {
		return 0, err
	}
	key = filepath.ToSlash(key)
	if st.Size() < o.threshold {
		_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: &o.bucket, Key: &key, Body: f, ContentLength: aws.Int64(st.Size())})
		if err != nil {
			return 0, fmt.Errorf("put %s: %w", key, err)
		}
		return st.Size(), nil
	}
	return st.Size(), multipart(ctx, client, o, f, key, st.Size())
}

func multipart(ctx context.Context, client *s3.Client, o options, f *os.File, key string, size int64) error {
	mp, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &o.bucket, Key: &key})
	if err != nil {
		return fmt.Errorf("start upload of %s: %w", key, err)
	}
	count := int((size + o.partSize - 1) / o.partSize)
	parts := make([]types.CompletedPart, count)
	sem := make(chan struct{}, o.partsInFlight)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range count {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			off := int64(i) * o.partSize
			n := min(o.partSize, size-off)
			num := int32(i + 1)
			out, err := client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &o.bucket, Key: &key, UploadId: mp.UploadId,
				PartNumber: &num, Body: io.NewSectionReader(f, off, n), ContentLength: aws.Int64(n)})
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("part %d of %s: %w", num, key, err))
				mu.Unlock()
				return
			}
			parts[i] = types.CompletedPart{ETag: out.ETag, PartNumber: &num}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		_, _ = client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &o.bucket, Key: &key, UploadId: mp.UploadId})
		return err
	}
	_, err = client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &o.bucket, Key: &key, UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return fmt.Errorf("complete upload of %s: %w", key, err)
	}
	return nil
}
