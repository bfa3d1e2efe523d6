#include "textflag.h"

// func conv3x3x8(o0, o1, o2, o3 *float32, in *float32, rowStride, planeStride int, w *float32, cin int, bias *float32)
//
// Eight adjacent output columns of four output channels of a stride-1 3×3 convolution
// (AVX2, no FMA): for every input channel and kernel row, t = w0·i0 + w4·i1, t += w8·i2,
// acc += t — the operations of rows3x3's scalar code in the same order, so the results are
// bit-identical to it. in points at the padded input of channel 0 at (row y, column x);
// rowStride and planeStride are in floats; w is the packed weights of rows3x3 (cin × 36).
TEXT ·conv3x3x8(SB), NOSPLIT, $0-80
	MOVQ o0+0(FP), R8
	MOVQ o1+8(FP), R9
	MOVQ o2+16(FP), R10
	MOVQ o3+24(FP), R11
	MOVQ in+32(FP), SI
	MOVQ rowStride+40(FP), R12
	MOVQ planeStride+48(FP), R13
	MOVQ w+56(FP), DI
	MOVQ cin+64(FP), CX
	MOVQ bias+72(FP), AX
	SHLQ $2, R12
	SHLQ $2, R13
	VBROADCASTSS 0(AX), Y0
	VBROADCASTSS 4(AX), Y1
	VBROADCASTSS 8(AX), Y2
	VBROADCASTSS 12(AX), Y3

ciloop:
	TESTQ CX, CX
	JZ    done
	MOVQ  SI, BX
	MOVQ  $3, DX

kyloop:
	VMOVUPS 0(BX), Y4
	VMOVUPS 4(BX), Y5
	VMOVUPS 8(BX), Y6

	VBROADCASTSS 0(DI), Y7
	VMULPS       Y7, Y4, Y8
	VBROADCASTSS 16(DI), Y7
	VMULPS       Y7, Y5, Y9
	VADDPS       Y9, Y8, Y8
	VBROADCASTSS 32(DI), Y7
	VMULPS       Y7, Y6, Y9
	VADDPS       Y9, Y8, Y8
	VADDPS       Y8, Y0, Y0

	VBROADCASTSS 4(DI), Y7
	VMULPS       Y7, Y4, Y8
	VBROADCASTSS 20(DI), Y7
	VMULPS       Y7, Y5, Y9
	VADDPS       Y9, Y8, Y8
	VBROADCASTSS 36(DI), Y7
	VMULPS       Y7, Y6, Y9
	VADDPS       Y9, Y8, Y8
	VADDPS       Y8, Y1, Y1

	VBROADCASTSS 8(DI), Y7
	VMULPS       Y7, Y4, Y8
	VBROADCASTSS 24(DI), Y7
	VMULPS       Y7, Y5, Y9
	VADDPS       Y9, Y8, Y8
	VBROADCASTSS 40(DI), Y7
	VMULPS       Y7, Y6, Y9
	VADDPS       Y9, Y8, Y8
	VADDPS       Y8, Y2, Y2

	VBROADCASTSS 12(DI), Y7
	VMULPS       Y7, Y4, Y8
	VBROADCASTSS 28(DI), Y7
	VMULPS       Y7, Y5, Y9
	VADDPS       Y9, Y8, Y8
	VBROADCASTSS 44(DI), Y7
	VMULPS       Y7, Y6, Y9
	VADDPS       Y9, Y8, Y8
	VADDPS       Y8, Y3, Y3

	ADDQ $48, DI
	ADDQ R12, BX
	DECQ DX
	JNZ  kyloop
	ADDQ R13, SI
	DECQ CX
	JMP  ciloop

done:
	VMOVUPS Y0, (R8)
	VMOVUPS Y1, (R9)
	VMOVUPS Y2, (R10)
	VMOVUPS Y3, (R11)
	VZEROUPPER
	RET

// func axpy4x8(a0, a1, a2, a3 *float32, w *float32, src *float32, n int)
//
// a_j[x] += w[j]·src[x] for x < n (n a multiple of 8), j = 0..3: multiply, then add, as
// axpy4's scalar code (no FMA), so the results are bit-identical to it.
TEXT ·axpy4x8(SB), NOSPLIT, $0-56
	MOVQ a0+0(FP), R8
	MOVQ a1+8(FP), R9
	MOVQ a2+16(FP), R10
	MOVQ a3+24(FP), R11
	MOVQ w+32(FP), AX
	MOVQ src+40(FP), SI
	MOVQ n+48(FP), CX
	VBROADCASTSS 0(AX), Y0
	VBROADCASTSS 4(AX), Y1
	VBROADCASTSS 8(AX), Y2
	VBROADCASTSS 12(AX), Y3
	XORQ DX, DX

loop:
	CMPQ    DX, CX
	JGE     end
	VMOVUPS (SI)(DX*4), Y4
	VMULPS  Y0, Y4, Y5
	VADDPS  (R8)(DX*4), Y5, Y5
	VMOVUPS Y5, (R8)(DX*4)
	VMULPS  Y1, Y4, Y5
	VADDPS  (R9)(DX*4), Y5, Y5
	VMOVUPS Y5, (R9)(DX*4)
	VMULPS  Y2, Y4, Y5
	VADDPS  (R10)(DX*4), Y5, Y5
	VMOVUPS Y5, (R10)(DX*4)
	VMULPS  Y3, Y4, Y5
	VADDPS  (R11)(DX*4), Y5, Y5
	VMOVUPS Y5, (R11)(DX*4)
	ADDQ    $8, DX
	JMP     loop

end:
	VZEROUPPER
	RET

// func conv3x3x32z(o0, o1, o2, o3 *float32, in *float32, rowStride, planeStride int, w *float32, cin int, bias *float32)
//
// conv3x3x8 for 32 adjacent output columns in two 16-wide AVX-512 groups (the same
// operations per value in the same order, so bit-identical to it and to rows3x3's scalar
// code): each weight broadcast serves both groups, which halves the loads per
// multiply-add.
TEXT ·conv3x3x32z(SB), NOSPLIT, $0-80
	MOVQ o0+0(FP), R8
	MOVQ o1+8(FP), R9
	MOVQ o2+16(FP), R10
	MOVQ o3+24(FP), R11
	MOVQ in+32(FP), SI
	MOVQ rowStride+40(FP), R12
	MOVQ planeStride+48(FP), R13
	MOVQ w+56(FP), DI
	MOVQ cin+64(FP), CX
	MOVQ bias+72(FP), AX
	SHLQ $2, R12
	SHLQ $2, R13
	VBROADCASTSS 0(AX), Z0
	VBROADCASTSS 4(AX), Z1
	VBROADCASTSS 8(AX), Z2
	VBROADCASTSS 12(AX), Z3
	VMOVAPS Z0, Z4
	VMOVAPS Z1, Z5
	VMOVAPS Z2, Z6
	VMOVAPS Z3, Z7

zciloop:
	TESTQ CX, CX
	JZ    zdone
	MOVQ  SI, BX
	MOVQ  $3, DX

zkyloop:
	VMOVUPS 0(BX), Z8
	VMOVUPS 4(BX), Z9
	VMOVUPS 8(BX), Z10
	VMOVUPS 64(BX), Z11
	VMOVUPS 68(BX), Z12
	VMOVUPS 72(BX), Z13
	VBROADCASTSS 0(DI), Z14
	VBROADCASTSS 16(DI), Z15
	VBROADCASTSS 32(DI), Z16
	VMULPS       Z14, Z8, Z17
	VMULPS       Z15, Z9, Z18
	VADDPS       Z18, Z17, Z17
	VMULPS       Z16, Z10, Z18
	VADDPS       Z18, Z17, Z17
	VADDPS       Z17, Z0, Z0
	VMULPS       Z14, Z11, Z19
	VMULPS       Z15, Z12, Z20
	VADDPS       Z20, Z19, Z19
	VMULPS       Z16, Z13, Z20
	VADDPS       Z20, Z19, Z19
	VADDPS       Z19, Z4, Z4
	VBROADCASTSS 4(DI), Z14
	VBROADCASTSS 20(DI), Z15
	VBROADCASTSS 36(DI), Z16
	VMULPS       Z14, Z8, Z17
	VMULPS       Z15, Z9, Z18
	VADDPS       Z18, Z17, Z17
	VMULPS       Z16, Z10, Z18
	VADDPS       Z18, Z17, Z17
	VADDPS       Z17, Z1, Z1
	VMULPS       Z14, Z11, Z19
	VMULPS       Z15, Z12, Z20
	VADDPS       Z20, Z19, Z19
	VMULPS       Z16, Z13, Z20
	VADDPS       Z20, Z19, Z19
	VADDPS       Z19, Z5, Z5
	VBROADCASTSS 8(DI), Z14
	VBROADCASTSS 24(DI), Z15
	VBROADCASTSS 40(DI), Z16
	VMULPS       Z14, Z8, Z17
	VMULPS       Z15, Z9, Z18
	VADDPS       Z18, Z17, Z17
	VMULPS       Z16, Z10, Z18
	VADDPS       Z18, Z17, Z17
	VADDPS       Z17, Z2, Z2
	VMULPS       Z14, Z11, Z19
	VMULPS       Z15, Z12, Z20
	VADDPS       Z20, Z19, Z19
	VMULPS       Z16, Z13, Z20
	VADDPS       Z20, Z19, Z19
	VADDPS       Z19, Z6, Z6
	VBROADCASTSS 12(DI), Z14
	VBROADCASTSS 28(DI), Z15
	VBROADCASTSS 44(DI), Z16
	VMULPS       Z14, Z8, Z17
	VMULPS       Z15, Z9, Z18
	VADDPS       Z18, Z17, Z17
	VMULPS       Z16, Z10, Z18
	VADDPS       Z18, Z17, Z17
	VADDPS       Z17, Z3, Z3
	VMULPS       Z14, Z11, Z19
	VMULPS       Z15, Z12, Z20
	VADDPS       Z20, Z19, Z19
	VMULPS       Z16, Z13, Z20
	VADDPS       Z20, Z19, Z19
	VADDPS       Z19, Z7, Z7
	ADDQ $48, DI
	ADDQ R12, BX
	DECQ DX
	JNZ  zkyloop
	ADDQ R13, SI
	DECQ CX
	JMP  zciloop

zdone:
	VMOVUPS Z0, (R8)
	VMOVUPS Z4, 64(R8)
	VMOVUPS Z1, (R9)
	VMOVUPS Z5, 64(R9)
	VMOVUPS Z2, (R10)
	VMOVUPS Z6, 64(R10)
	VMOVUPS Z3, (R11)
	VMOVUPS Z7, 64(R11)
	VZEROUPPER
	RET

// func conv3x3x16z(o0, o1, o2, o3 *float32, in *float32, rowStride, planeStride int, w *float32, cin int, bias *float32)
//
// conv3x3x32z for 16 columns (one AVX-512 group): a row's remainder after the 32-column
// blocks. Bit-identical to conv3x3x8 likewise.
TEXT ·conv3x3x16z(SB), NOSPLIT, $0-80
	MOVQ o0+0(FP), R8
	MOVQ o1+8(FP), R9
	MOVQ o2+16(FP), R10
	MOVQ o3+24(FP), R11
	MOVQ in+32(FP), SI
	MOVQ rowStride+40(FP), R12
	MOVQ planeStride+48(FP), R13
	MOVQ w+56(FP), DI
	MOVQ cin+64(FP), CX
	MOVQ bias+72(FP), AX
	SHLQ $2, R12
	SHLQ $2, R13
	VBROADCASTSS 0(AX), Z0
	VBROADCASTSS 4(AX), Z1
	VBROADCASTSS 8(AX), Z2
	VBROADCASTSS 12(AX), Z3

hciloop:
	TESTQ CX, CX
	JZ    hdone
	MOVQ  SI, BX
	MOVQ  $3, DX

hkyloop:
	VMOVUPS 0(BX), Z8
	VMOVUPS 4(BX), Z9
	VMOVUPS 8(BX), Z10
	VBROADCASTSS 0(DI), Z14
	VBROADCASTSS 16(DI), Z15
	VBROADCASTSS 32(DI), Z16
	VMULPS       Z14, Z8, Z17
	VMULPS       Z15, Z9, Z18
	VADDPS       Z18, Z17, Z17
	VMULPS       Z16, Z10, Z18
	VADDPS       Z18, Z17, Z17
	VADDPS       Z17, Z0, Z0
	VBROADCASTSS 4(DI), Z14
	VBROADCASTSS 20(DI), Z15
	VBROADCASTSS 36(DI), Z16
	VMULPS       Z14, Z8, Z17
	VMULPS       Z15, Z9, Z18
	VADDPS       Z18, Z17, Z17
	VMULPS       Z16, Z10, Z18
	VADDPS       Z18, Z17, Z17
	VADDPS       Z17, Z1, Z1
	VBROADCASTSS 8(DI), Z14
	VBROADCASTSS 24(DI), Z15
	VBROADCASTSS 40(DI), Z16
	VMULPS       Z14, Z8, Z17
	VMULPS       Z15, Z9, Z18
	VADDPS       Z18, Z17, Z17
	VMULPS       Z16, Z10, Z18
	VADDPS       Z18, Z17, Z17
	VADDPS       Z17, Z2, Z2
	VBROADCASTSS 12(DI), Z14
	VBROADCASTSS 28(DI), Z15
	VBROADCASTSS 44(DI), Z16
	VMULPS       Z14, Z8, Z17
	VMULPS       Z15, Z9, Z18
	VADDPS       Z18, Z17, Z17
	VMULPS       Z16, Z10, Z18
	VADDPS       Z18, Z17, Z17
	VADDPS       Z17, Z3, Z3
	ADDQ $48, DI
	ADDQ R12, BX
	DECQ DX
	JNZ  hkyloop
	ADDQ R13, SI
	DECQ CX
	JMP  hciloop

hdone:
	VMOVUPS Z0, (R8)
	VMOVUPS Z1, (R9)
	VMOVUPS Z2, (R10)
	VMOVUPS Z3, (R11)
	VZEROUPPER
	RET
