"""Side-by-side pictures of codec v2 (source | decoded at k = 4) to look at, not just measure:

    /usr/bin/python3 encoder/train/look2.py [--ckpt build/train2/ckpt.pt] [--out build/look2]

flower.png: an intra frame (top) and a P-frame two frames later predicted from it (bottom);
cut.png: the same on carphone, but the P-frame is bus's frame 2 (a scene cut between the
reference and the frame: what the encoder's intra/inter decision must handle).
"""
import argparse, os, sys, numpy as np, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import motion
from codec2 import Codec, LAYERS, obmc, pack6, unpack6
from evaluate2 import bits_of, tensor, q8
from y4m import Y4M
ap=argparse.ArgumentParser(); ap.add_argument('--ckpt',default='build/train2/ckpt.pt'); ap.add_argument('--out',default='build/look2')
ap.add_argument('--clips',default='/tmp/strata-media/test'); args=ap.parse_args(); os.makedirs(args.out,exist_ok=True)
torch.set_num_threads(1)
st=torch.load(args.ckpt,map_location='cpu')
ic,pc=Codec(False),Codec(True); ic.load_state_dict(st['i']); pc.load_state_dict(st['p']); ic.eval(); pc.eval()
def rgb(x):
    y,u,v=[t[0,0].numpy()*255 for t in unpack6(x)]
    u=np.repeat(np.repeat(u,2,0),2,1); v=np.repeat(np.repeat(v,2,0),2,1)
    r=1.164*(y-16)+1.596*(v-128); g=1.164*(y-16)-0.813*(v-128)-0.391*(u-128); b=1.164*(y-16)+2.018*(u-128)
    return np.clip(np.stack([r,g,b],-1),0,255).astype(np.uint8)
def run(clip, cut=None):
    c=Y4M(clip); f=[motion.pad16(*c.frame(i)) for i in range(5)]
    if cut: 
        c2=Y4M(cut); f2=[motion.pad16(*c2.frame(i)) for i in range(5)]
        h,w=f[0][0].shape; f=[f[0],f[1],f2[2] if f2[2][0].shape==(h,w) else f[2]]+f[3:]
    with torch.no_grad():
        x0=tensor(*f[0]); q=bits_of(ic,ic.enc(x0,0),0); r0=q8(ic.dec(q[3][0],4,0))
        x=tensor(*f[2]); H,W=f[0][0].shape
        by,bx=np.meshgrid(np.arange(0,H,16),np.arange(0,W,16),indexing='ij')
        mv=motion.search(f[2][0],f[0][0],by.ravel(),bx.ravel())
        mv=torch.from_numpy(mv.reshape(1,by.shape[0],by.shape[1],2).astype(np.int64))
        pred=q8(pack6(*obmc(*unpack6(r0),mv)))
        q=bits_of(pc,pc.enc(x,1,pred),1); xp=q8(pc.dec(q[3][0],4,1,pred))
    return np.concatenate([rgb(x),rgb(xp)],1), np.concatenate([rgb(x0),rgb(r0)],1)
import zlib, struct
def png(path, a):
    h,w,_=a.shape; raw=b''.join(b'\x00'+a[i].tobytes() for i in range(h))
    ch=lambda t,d: struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d)&0xffffffff)
    open(path,'wb').write(b'\x89PNG\r\n\x1a\n'+ch(b'IHDR',struct.pack('>IIBBBBB',w,h,8,2,0,0,0))+ch(b'IDAT',zlib.compress(raw))+ch(b'IEND',b''))
a,b=run(args.clips+'/flower_540p.y4m')
png(args.out+'/flower.png', np.concatenate([b,a],0)[::2,::2])
a,b=run(args.clips+'/carphone_qcif.y4m', cut=args.clips+'/bus_qcif.y4m')
png(args.out+'/cut.png', np.concatenate([b,a],0).repeat(2,0).repeat(2,1))
print(args.out)
