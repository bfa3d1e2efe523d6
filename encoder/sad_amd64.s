#include "textflag.h"

// SAD kernels for motion search (SSE2, baseline amd64): the same sums as motion.go's
// portable code, exactly (integers).

// func sadBlock(a *byte, as int, b *byte, bs int, n int) int
//
// The sum of absolute differences of two n×n blocks (n = 4, 8 or 16), rows as and bs bytes
// apart.
TEXT ·sadBlock(SB), NOSPLIT, $0-48
	MOVQ a+0(FP), SI
	MOVQ as+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ bs+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ CX, DX
	PXOR X2, X2
	CMPQ CX, $16
	JEQ  rows16
	CMPQ CX, $8
	JEQ  rows8

rows4:
	MOVL   (SI), AX
	MOVQ   AX, X0
	MOVL   (DI), BX
	MOVQ   BX, X1
	PSADBW X1, X0
	PADDQ  X0, X2
	ADDQ   R8, SI
	ADDQ   R9, DI
	DECQ   DX
	JNZ    rows4
	JMP    done

rows8:
	MOVQ   (SI), X0
	MOVQ   (DI), X1
	PSADBW X1, X0
	PADDQ  X0, X2
	ADDQ   R8, SI
	ADDQ   R9, DI
	DECQ   DX
	JNZ    rows8
	JMP    done

rows16:
	MOVOU  (SI), X0
	MOVOU  (DI), X1
	PSADBW X1, X0
	PADDQ  X0, X2
	ADDQ   R8, SI
	ADDQ   R9, DI
	DECQ   DX
	JNZ    rows16

done:
	MOVQ  X2, AX
	PSRLDQ $8, X2
	MOVQ  X2, BX
	ADDQ  BX, AX
	MOVQ  AX, ret+40(FP)
	RET

// func sadHalf16(a *byte, as int, r *byte, rs int, dx, dy int) int
//
// The SAD of the 16×16 block a against the reference block at r interpolated half a
// sample right (dx = 1) and/or down (dy = 1): (2−fx)(2−fy)·r00 + … + 2 >> 2, which is the
// rounded mean of two samples when only one of dx, dy is set (PAVGB) and
// (r00 + r01 + r10 + r11 + 2) >> 2 when both are.
TEXT ·sadHalf16(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ as+8(FP), R8
	MOVQ r+16(FP), DI
	MOVQ rs+24(FP), R9
	MOVQ dx+32(FP), R10
	MOVQ dy+40(FP), R11
	MOVQ $16, DX
	PXOR X2, X2
	PXOR X7, X7
	MOVQ $0x0002000200020002, AX
	MOVQ AX, X6
	PUNPCKLQDQ X6, X6
	// R12: the offset of the second sample (1 right, or one row down)
	MOVQ R9, R12
	TESTQ R11, R11
	JZ   horiz
	TESTQ R10, R10
	JNZ  both
	JMP  avg
horiz:
	MOVQ $1, R12

avg:
	MOVOU  (SI), X0
	MOVOU  (DI), X1
	MOVOU  (DI)(R12*1), X3
	PAVGB  X3, X1
	PSADBW X1, X0
	PADDQ  X0, X2
	ADDQ   R8, SI
	ADDQ   R9, DI
	DECQ   DX
	JNZ    avg
	JMP    hdone

both:
	MOVOU (DI), X1
	MOVOU 1(DI), X3
	MOVOU (DI)(R9*1), X4
	MOVOU 1(DI)(R9*1), X5
	// low 8 samples as words
	MOVOU X1, X8
	PUNPCKLBW X7, X8
	MOVOU X3, X9
	PUNPCKLBW X7, X9
	PADDW X9, X8
	MOVOU X4, X9
	PUNPCKLBW X7, X9
	PADDW X9, X8
	MOVOU X5, X9
	PUNPCKLBW X7, X9
	PADDW X9, X8
	PADDW X6, X8
	PSRLW $2, X8
	// high 8 samples
	PUNPCKHBW X7, X1
	PUNPCKHBW X7, X3
	PADDW X3, X1
	PUNPCKHBW X7, X4
	PADDW X4, X1
	PUNPCKHBW X7, X5
	PADDW X5, X1
	PADDW X6, X1
	PSRLW $2, X1
	PACKUSWB X1, X8
	MOVOU  (SI), X0
	PSADBW X8, X0
	PADDQ  X0, X2
	ADDQ   R8, SI
	ADDQ   R9, DI
	DECQ   DX
	JNZ    both

hdone:
	MOVQ  X2, AX
	PSRLDQ $8, X2
	MOVQ  X2, BX
	ADDQ  BX, AX
	MOVQ  AX, ret+48(FP)
	RET
